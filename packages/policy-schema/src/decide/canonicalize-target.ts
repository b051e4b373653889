import { percentDecode } from './percent-decode.js';

/**
 * The canonical form of a request target, which is what L7 rules are matched against.
 *
 * Choices (each closes a known way to make the proxy and the upstream disagree on a path):
 * - Only origin-form targets (`/path?query`) are accepted; the proxy turns absolute-form
 *   into origin-form before deciding. `*` (OPTIONS asterisk-form) is refused.
 * - Raw bytes outside printable ASCII, and `#`, are refused (RFC 9112 §3.2 request-target).
 * - Percent-decoding per `percent-decode.ts`: `%2F` refused unless `allowEncodedSlash` (then
 *   kept as `%2F`, never a separator); `%25` kept; invalid escapes, NUL and control
 *   characters refused.
 * - Decoding happens before dot-segment resolution, so `%2e%2e` is `..`.
 * - `.` segments are dropped and `..` removes the previous segment (RFC 3986 §5.2.4); a `..`
 *   that would climb above `/` is REFUSED, never clamped: a client that sends one is either
 *   broken or probing, and clamping would hide the attempt.
 * - Empty segments are collapsed (`//admin` → `/admin`); a trailing `/` is kept.
 * - `\` is an ordinary character, not a separator (RFC 3986). Upstreams that treat it as
 *   `/` (IIS) can therefore see a different path; policies for such hosts should deny `\`
 *   explicitly.
 * - `;params` (Tomcat/Jetty path parameters): `/admin;x=1` is `/admin` to a Java server and a
 *   literal segment `admin;x=1` to most others. We produce BOTH readings — `path` with every
 *   segment's `;…` stripped and `literalPath` with `;` kept — and `decide()` requires the
 *   request to be allowed under both and denied if either hits a deny rule. So `/admin;x=1`
 *   meets a deny on `/admin/**`, and `/public/..;/admin` is judged as `/admin` as well as
 *   `/public/..;/admin`.
 * - Query: split on `&`, each pair on its first `=`, `+` is a space, then percent-decoded
 *   (a key alone has the value `""`). Keys are decoded too, so `%61=1` counts as `a`.
 */
export type CanonicalTarget =
  | {
      readonly ok: true;
      /** Canonical path with `;params` stripped from every segment. */
      readonly path: string;
      /** Canonical path with `;` kept literally; present only when it differs from `path`. */
      readonly literalPath?: string;
      readonly query: ReadonlyMap<string, readonly string[]>;
    }
  | { readonly ok: false; readonly reason: string };

export interface CanonicalizeOptions {
  /** Keep `%2F` (encoded) instead of refusing it — the endpoint's `allow_encoded_slash`. */
  readonly allowEncodedSlash: boolean;
}

const NO_QUERY: ReadonlyMap<string, readonly string[]> = new Map();

/** Longer targets are refused rather than matched (Node's default header limit is 16 KiB). */
export const MAX_TARGET_LENGTH = 65536;

/** Splits, decodes and normalises a raw request target (see the rules above). */
export function canonicalizeTarget(target: string, options: CanonicalizeOptions): CanonicalTarget {
  if (typeof target !== 'string' || target.length === 0) {
    return { ok: false, reason: 'empty request target' };
  }
  if (target.length > MAX_TARGET_LENGTH) {
    return { ok: false, reason: `request target longer than ${MAX_TARGET_LENGTH} characters` };
  }
  if (target.charCodeAt(0) !== 0x2f) {
    return { ok: false, reason: `request target must start with "/" (got ${preview(target)})` };
  }
  // One pass: refuse bytes a request-target may not contain (RFC 9112 §3.2, RFC 3986 §2 —
  // controls, space, non-ASCII, and `#`, since a fragment is never sent), find the query,
  // and note whether the path needs any work (escapes, parameters, `//`, dot segments).
  let q = -1;
  let needsWork = false;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x23) {
      return {
        ok: false,
        reason: `request target contains ${c === 0x23 ? 'a fragment ("#")' : `a raw byte 0x${c.toString(16)} that must be percent-encoded`} at offset ${i}`,
      };
    }
    if (q >= 0 || needsWork) {
      if (q < 0 && c === 0x3f) q = i;
      continue;
    }
    if (c === 0x3f) q = i;
    else if (c === 0x25 || c === 0x3b) needsWork = true;
    else if (c === 0x2f) needsWork = isDotOrEmptySegment(target, i + 1);
  }
  const rawPath = q < 0 ? target : target.slice(0, q);
  if (!needsWork) {
    // Already canonical: nothing to decode, no dot or empty segments, no parameters.
    if (q < 0) return { ok: true, path: rawPath, query: NO_QUERY };
    const query = parseQuery(target.slice(q + 1));
    return query.ok ? { ok: true, path: rawPath, query: query.value } : query;
  }
  const decoded = percentDecode(rawPath, {
    mode: 'path',
    allowEncodedSlash: options.allowEncodedSlash,
  });
  if (!decoded.ok) return decoded;
  const segments = decoded.value.split('/');
  const path = resolveSegments(segments, true);
  if (path === null) return { ok: false, reason: 'path climbs above the root with ".."' };
  let literalPath: string | null = path;
  if (decoded.value.includes(';')) {
    literalPath = resolveSegments(segments, false);
    if (literalPath === null) return { ok: false, reason: 'path climbs above the root with ".."' };
  }
  const query = parseQuery(q < 0 ? '' : target.slice(q + 1));
  if (!query.ok) return query;
  return literalPath === path
    ? { ok: true, path, query: query.value }
    : { ok: true, path, literalPath, query: query.value };
}

/** True when the segment starting at `start` is empty, `.` or `..` (it ends at `/`, `?` or the end). */
function isDotOrEmptySegment(target: string, start: number): boolean {
  const isEnd = (i: number): boolean =>
    i >= target.length || target.charCodeAt(i) === 0x2f || target.charCodeAt(i) === 0x3f;
  const c = target.charCodeAt(start);
  if (c === 0x2f) return true;
  if (c !== 0x2e) return false;
  return isEnd(start + 1) || (target.charCodeAt(start + 1) === 0x2e && isEnd(start + 2));
}

/** RFC 3986 remove_dot_segments plus `//` collapsing; null when `..` climbs above `/`. */
function resolveSegments(segments: readonly string[], stripParams: boolean): string | null {
  const out: string[] = [];
  let trailingSlash = false;
  const last = segments.length - 1;
  for (let k = 1; k <= last; k++) {
    let segment = segments[k] ?? '';
    if (stripParams) {
      const semi = segment.indexOf(';');
      if (semi >= 0) segment = segment.slice(0, semi);
    }
    trailingSlash = false;
    if (segment === '' || segment === '.') {
      trailingSlash = k === last;
      continue;
    }
    if (segment === '..') {
      if (out.length === 0) return null;
      out.pop();
      trailingSlash = k === last;
      continue;
    }
    out.push(segment);
  }
  if (out.length === 0) return '/';
  const joined = `/${out.join('/')}`;
  return trailingSlash ? `${joined}/` : joined;
}

type QueryResult =
  { ok: true; value: ReadonlyMap<string, readonly string[]> } | { ok: false; reason: string };

const QUERY_DECODE = { mode: 'query', allowEncodedSlash: true } as const;

/** One query key or value: `+` is a space, then percent-decoding; a string, or why not. */
function decodeQueryComponent(raw: string): string | { readonly reason: string } {
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  const decoded = percentDecode(raw.replaceAll('+', ' '), QUERY_DECODE);
  return decoded.ok ? decoded.value : { reason: `query: ${decoded.reason}` };
}

/** `a=1&a=2&b` → `{a: ['1', '2'], b: ['']}` (see the rules above). */
function parseQuery(raw: string): QueryResult {
  if (raw === '') return { ok: true, value: NO_QUERY };
  const value = new Map<string, string[]>();
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeQueryComponent(eq < 0 ? pair : pair.slice(0, eq));
    if (typeof key !== 'string') return { ok: false, reason: key.reason };
    const decoded = decodeQueryComponent(eq < 0 ? '' : pair.slice(eq + 1));
    if (typeof decoded !== 'string') return { ok: false, reason: decoded.reason };
    const list = value.get(key);
    if (list === undefined) value.set(key, [decoded]);
    else list.push(decoded);
  }
  return { ok: true, value };
}

/** Quoted and escaped, so a hostile target cannot forge log lines through the reason. */
function preview(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
