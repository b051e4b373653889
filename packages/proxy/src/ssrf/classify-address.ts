import {
  cidrContains,
  embeddedIpv4,
  parseCidr,
  parseIp,
  type Cidr,
  type IpBytes,
} from './ip-address.js';

/**
 * - `blocked`: never reachable through the proxy, whatever the policy says (loopback,
 *   link-local incl. cloud metadata 169.254.169.254, unspecified, multicast, broadcast,
 *   reserved). Reaching these would hand a sandbox the host's own services.
 * - `private`: internal networks (RFC 1918, CGNAT, ULA, documentation/benchmark ranges);
 *   reachable only when the endpoint's `allowed_ips` covers the address.
 * - `public`: everything else.
 */
export type AddressClass = 'blocked' | 'private' | 'public';

export interface AddressClassification {
  readonly class: AddressClass;
  /** Which range matched, for the log (`loopback`, `rfc1918`, …). */
  readonly range: string;
}

function ranges(table: Readonly<Record<string, readonly string[]>>): Array<[string, Cidr]> {
  const out: Array<[string, Cidr]> = [];
  for (const [name, cidrs] of Object.entries(table)) {
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (!cidr) throw new Error(`invalid built-in CIDR ${text}`);
      out.push([name, cidr]);
    }
  }
  return out;
}

const BLOCKED = ranges({
  unspecified: ['0.0.0.0/8', '::/128'],
  loopback: ['127.0.0.0/8', '::1/128'],
  'link-local': ['169.254.0.0/16', 'fe80::/10'],
  multicast: ['224.0.0.0/4', 'ff00::/8'],
  // 240/4 includes 255.255.255.255 (limited broadcast); nothing routable lives there.
  'reserved/broadcast': ['240.0.0.0/4'],
  // The rest of ::/96 (IPv4-compatible form) once embedded IPv4 is decoded: never legitimate.
  'reserved-ipv6': ['::/96', '100::/64'],
});

const PRIVATE = ranges({
  rfc1918: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
  cgnat: ['100.64.0.0/10'],
  'ietf-protocol': ['192.0.0.0/24'],
  documentation: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'],
  benchmarking: ['198.18.0.0/15', '2001:2::/48'],
  ula: ['fc00::/7'],
  'site-local': ['fec0::/10'],
});

function classifyBytes(bytes: IpBytes): AddressClassification {
  // Decode embedded IPv4 first: ::ffff:169.254.169.254 must be judged as 169.254.169.254.
  const inner = bytes.length === 16 ? embeddedIpv4(bytes) : null;
  if (inner) {
    const innerClass = classifyBytes(inner);
    if (innerClass.class !== 'public') return innerClass;
  }
  for (const [range, cidr] of BLOCKED)
    if (cidrContains(cidr, bytes)) return { class: 'blocked', range };
  for (const [range, cidr] of PRIVATE)
    if (cidrContains(cidr, bytes)) return { class: 'private', range };
  return { class: 'public', range: 'public' };
}

/** Classifies an IP literal for the SSRF check; anything unparsable is `blocked` (fail closed). */
export function classifyAddress(address: string): AddressClassification {
  const bytes = parseIp(address);
  if (!bytes) return { class: 'blocked', range: 'unparsable' };
  return classifyBytes(bytes);
}

/** True when one of `allowedIps` (CIDRs or addresses from the policy) covers `address`. */
export function isAllowedIp(address: string, allowedIps: readonly string[]): boolean {
  const bytes = parseIp(address);
  if (!bytes) return false;
  return allowedIps.some((entry) => {
    const cidr = parseCidr(entry);
    return cidr !== null && cidrContains(cidr, bytes);
  });
}
