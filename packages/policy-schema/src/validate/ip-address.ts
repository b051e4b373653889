/**
 * IP and CIDR parsing for hosts and `allowed_ips`, written out rather than taken from
 * node:net so the package stays free of I/O modules. IPv4 lives in the IPv4-mapped part
 * of the IPv6 space (::ffff:0:0/96), so one overlap test covers `127.0.0.1` and
 * `::ffff:127.0.0.1` alike — the mapped form is a classic way round IPv4-only blocklists.
 */

export interface IpRange {
  readonly start: bigint;
  readonly end: bigint;
}

const MAPPED_PREFIX = 0xffffn << 32n;
const ALL_ONES = (1n << 128n) - 1n;

/** Parses a dotted-quad IPv4 address (no leading zeros: `010` could mean octal 8). */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** Parses an IPv6 address (with `::` and an optional dotted IPv4 tail); no zone ids. */
export function parseIpv6(text: string): bigint | undefined {
  if (text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const count = head.length + tail.length;
  if (halves.length === 2 ? count > 7 : count !== 8) return undefined;
  const groups = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
}

/** `text` as an address in the unified 128-bit space, or undefined. */
export function parseIp(text: string): bigint | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return MAPPED_PREFIX | BigInt(v4);
  return parseIpv6(text);
}

/** An IP address or CIDR (`10.0.5.0/24`, `fd00::/8`) as a range, or undefined when malformed. */
export function parseCidr(text: string): IpRange | undefined {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const v4 = parseIpv4(address);
  const value = v4 === undefined ? parseIpv6(address) : MAPPED_PREFIX | BigInt(v4);
  if (value === undefined) return undefined;
  const width = v4 === undefined ? 128 : 32;
  if (prefixText === undefined) return { start: value, end: value };
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > width) return undefined;
  const hostBits = BigInt(width - prefix);
  const hostMask = (1n << hostBits) - 1n;
  const start = value & (ALL_ONES ^ hostMask);
  return { start, end: start | hostMask };
}

/** True when the two ranges share at least one address. */
export function rangesOverlap(a: IpRange, b: IpRange): boolean {
  return a.start <= b.end && b.start <= a.end;
}

export interface InternalRange extends IpRange {
  readonly kind: 'loopback' | 'link-local' | 'unspecified' | 'multicast';
  readonly cidr: string;
}

function internal(cidr: string, kind: InternalRange['kind']): InternalRange {
  const range = parseCidr(cidr);
  if (range === undefined) throw new Error(`bad built-in CIDR ${cidr}`);
  return { ...range, kind, cidr };
}

/**
 * Address space the proxy never connects to, whatever the policy says: loopback (the
 * gateway and host services), link-local (cloud metadata at 169.254.169.254), the
 * unspecified address (0.0.0.0 reaches local services on Linux) and multicast.
 */
export const INTERNAL_RANGES: readonly InternalRange[] = [
  internal('127.0.0.0/8', 'loopback'),
  internal('::1/128', 'loopback'),
  internal('169.254.0.0/16', 'link-local'),
  internal('fe80::/10', 'link-local'),
  internal('0.0.0.0/8', 'unspecified'),
  internal('::/128', 'unspecified'),
  internal('224.0.0.0/4', 'multicast'),
  internal('ff00::/8', 'multicast'),
];

/** The first internal range the given range overlaps, or undefined. */
export function findInternalOverlap(range: IpRange): InternalRange | undefined {
  return INTERNAL_RANGES.find((blocked) => rangesOverlap(range, blocked));
}

function groupsOf(text: string): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [index, part] of parts.entries()) {
    if (part.includes('.')) {
      // A dotted IPv4 tail is only allowed as the last two groups.
      const v4 = index === parts.length - 1 ? parseIpv4(part) : undefined;
      if (v4 === undefined) return undefined;
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
      groups.push(Number.parseInt(part, 16));
    }
  }
  return groups;
}
