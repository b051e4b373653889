import type { CompiledNetworkPolicy } from '../compile/compile-policy.js';

/**
 * Helpers for the human-readable `Decision.reason`. Request fields come from the sandbox
 * (a binary path may contain a newline), so anything unusual is printed JSON-quoted and a
 * hostile request cannot forge log lines.
 */

const PLAIN = /^[\x21-\x7e]{1,512}$/;

/** The text as-is when it is short printable ASCII, otherwise JSON-quoted and shortened. */
export function toSafeText(text: unknown): string {
  if (typeof text !== 'string') {
    // Never stringify a caller's object: toJSON or a getter could throw or lie.
    return typeof text === 'number' || typeof text === 'boolean'
      ? String(text)
      : `<${typeof text}>`;
  }
  if (PLAIN.test(text)) return text;
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/** `api.github.com:443`, `[2001:db8::1]:443`. */
export function toHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `L4 api.github.com:443`, `L4 *.github.com:443`: the rule string of an L4 allow. */
export function toL4Rule(hostPattern: string, port: number): string {
  return `L4 ${toHostPort(hostPattern, port)}`;
}

/** `/usr/bin/node` or `/usr/bin/node (ancestor of /usr/local/bin/claude)`. */
export function describeCaller(matched: string, binary: string): string {
  return matched === binary
    ? toSafeText(matched)
    : `${toSafeText(matched)} (ancestor of ${toSafeText(binary)})`;
}

const MAX_LISTED = 8;

function toShortList(items: readonly string[], empty: string): string {
  if (items.length === 0) return empty;
  const shown = items.slice(0, MAX_LISTED).join(', ');
  return items.length > MAX_LISTED ? `${shown} and ${items.length - MAX_LISTED} more` : shown;
}

/** `/usr/bin/curl, /opt/**\/node`: a policy's binary list for deny reasons (built at compile time). */
export function describeBinaries(patterns: readonly string[]): string {
  return toShortList(patterns.map(toSafeText), 'no binaries (empty list)');
}

/** `binary /usr/bin/wget (ancestors: /bin/sh) is not listed for … (policy x allows: …)`. */
export function describeBinaryMiss(
  binary: string,
  ancestors: readonly string[],
  hostPort: string,
  policies: readonly CompiledNetworkPolicy[],
): string {
  const who =
    ancestors.length === 0
      ? `binary ${toSafeText(binary)}`
      : `binary ${toSafeText(binary)} (ancestors: ${toShortList(ancestors.map(toSafeText), '')})`;
  const allowed = policies
    .slice(0, MAX_LISTED)
    .map((policy) => `policy ${policy.id} allows: ${policy.binarySummary}`)
    .join('; ');
  return `${who} is not listed for ${hostPort} (${allowed})`;
}

/** `(api.github.com is allowed on port 443 by policy github_api)` or ''. */
export function describeOtherPorts(
  host: string,
  port: number,
  hits: readonly { readonly ports: readonly number[]; readonly policyId: string }[],
): string {
  const ports = new Set<number>();
  const policies = new Set<string>();
  for (const hit of hits) {
    for (const p of hit.ports) if (p !== port) ports.add(p);
    policies.add(hit.policyId);
  }
  if (ports.size === 0) return '';
  const portList = [...ports].sort((a, b) => a - b).join(', ');
  const noun = ports.size === 1 ? 'port' : 'ports';
  return ` (${host} is allowed on ${noun} ${portList} by policy ${toShortList([...policies], '')})`;
}

/** `GET /repos/**, POST /repos/*\/issues and 3 more`. */
export function describeRules(labels: readonly string[]): string {
  return toShortList(labels, 'no rules');
}
