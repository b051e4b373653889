import { isIPv4 } from 'node:net';
import { OpenShellError } from '@openshell/policy-schema';

/** An IPv4 network as an unsigned 32-bit base address and a prefix length. */
export interface Ipv4Cidr {
  readonly base: number;
  readonly prefixLength: number;
}

/** Parses a dotted-quad IPv4 address into an unsigned 32-bit number. */
export function parseIpv4(text: string): number {
  if (!isIPv4(text)) {
    throw new OpenShellError('ERR_USAGE', `"${text}" is not an IPv4 address (dotted quad)`);
  }
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** Formats an unsigned 32-bit number as a dotted quad. */
export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Parses `a.b.c.d/n`; the base must be aligned to the prefix (no host bits set). */
export function parseIpv4Cidr(text: string): Ipv4Cidr {
  const [address = '', prefix = ''] = text.split('/');
  const prefixLength = Number(prefix);
  if (!/^\d+$/.test(prefix) || prefixLength < 8 || prefixLength > 30) {
    throw new OpenShellError(
      'ERR_USAGE',
      `address pool "${text}" must be an IPv4 CIDR with a prefix length between 8 and 30, e.g. 10.200.0.0/16`,
    );
  }
  const base = parseIpv4(address);
  if (base % 2 ** (32 - prefixLength) !== 0) {
    throw new OpenShellError(
      'ERR_USAGE',
      `address pool "${text}" has host bits set; use the network address, e.g. ${formatIpv4(base - (base % 2 ** (32 - prefixLength)))}/${prefix}`,
    );
  }
  return { base, prefixLength };
}

/** True when `address` (a number) lies inside `cidr`. */
export function isInCidr(address: number, cidr: Ipv4Cidr): boolean {
  return address >= cidr.base && address < cidr.base + 2 ** (32 - cidr.prefixLength);
}
