/**
 * Host normalisation shared by endpoint patterns (at compile time) and requests (per
 * decision), so both sides are compared in one spelling:
 * - lower-case (DNS names are case-insensitive, RFC 4343);
 * - one trailing dot removed (`example.com.` is the same absolute name);
 * - IPv6 literals with or without brackets become the RFC 5952 text form (`[2001:DB8::0:1]`
 *   → `2001:db8::1`), so every spelling of an address matches the policy's literal.
 * IPv4 literals are kept as written: `127.1` or `0x7f.0.0.1` do not equal `127.0.0.1` and are
 * therefore denied unless the policy names them — failing closed on exotic spellings.
 */
export function normalizeHost(host: string): string {
  // Most hosts are already normal; returning the same string keeps its cached hash, which
  // makes the index lookup that follows several times cheaper than on a fresh copy.
  if (!NEEDS_NORMALISING.test(host) && !host.endsWith('.')) return host;
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.includes(':')) return canonicalizeIpv6(h) ?? h;
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

const NEEDS_NORMALISING = /[A-Z:[\]]/;

/** RFC 5952 form of an IPv6 literal (via the WHATWG URL parser), or null when it is not one. */
function canonicalizeIpv6(address: string): string | null {
  // The URL parser rejects zone ids (`fe80::1%eth0`) and anything that is not an address.
  if (!/^[0-9a-f:.]+$/.test(address)) return null;
  try {
    const { hostname } = new URL(`http://[${address}]/`);
    return hostname.slice(1, -1);
  } catch {
    // Not an IPv6 address: the caller keeps the raw text, which validates as no host.
    return null;
  }
}

const MAX_HOST_LENGTH = 253;
// Labels of 1..63 letters, digits, `-`, `_`. Every repetition ends with a literal dot that
// no label contains, so a failing match backtracks at most 63 steps per label (linear).
const DNS_NAME = /^(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}$/;

/**
 * True for a normalised host the matchers accept: a DNS name of non-empty labels
 * (letters, digits, `-`, `_`; at most 63 per label, 253 in all), or an IPv6 literal
 * already in canonical form. Anything else (empty labels, spaces, `*`, a zone id) is
 * refused before matching, which keeps the wildcard matchers free of corner cases such as
 * `a..example.com`.
 */
export function isValidHost(host: string): boolean {
  if (host.length === 0 || host.length > MAX_HOST_LENGTH) return false;
  if (host.includes(':')) return canonicalizeIpv6(host) === host;
  return DNS_NAME.test(host);
}

/**
 * `normalizeHost` then `isValidHost` in one step: the normalised host, or null when it is
 * not a host the matchers accept. The common case — an already lower-case DNS name — is
 * checked in a single pass over the characters and returns the caller's own string.
 */
export function toValidHost(host: string): string | null {
  const n = host.length;
  if (n === 0 || n > MAX_HOST_LENGTH) return toValidHostSlowly(host);
  let label = 0;
  for (let i = 0; i < n; i++) {
    const c = host.charCodeAt(i);
    if (c === 0x2e) {
      if (label === 0) return toValidHostSlowly(host);
      label = 0;
    } else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f) {
      if (++label > MAX_LABEL_LENGTH) return null;
    } else {
      return toValidHostSlowly(host);
    }
  }
  return label === 0 ? toValidHostSlowly(host) : host;
}

const MAX_LABEL_LENGTH = 63;

function toValidHostSlowly(host: string): string | null {
  const normalised = normalizeHost(host);
  return isValidHost(normalised) ? normalised : null;
}
