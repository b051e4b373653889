import { parseAuthority, type Authority } from '../http/request-target.js';

/** The hypothetical request a policy check asks about. */
export interface CheckQuery extends Authority {
  /** Upper-case HTTP method (default GET). */
  readonly method: string;
  /** Origin-form target (path plus optional `?query`), exactly as a client would send it. */
  readonly target: string;
  /** The `binary=` parameter: ask about another executable instead of the caller's own. */
  readonly binary: string | null;
}

export type ParsedCheckQuery =
  | { readonly ok: true; readonly query: CheckQuery }
  | { readonly ok: false; readonly parameter: string; readonly detail: string };

const KNOWN = new Set(['url', 'host', 'port', 'path', 'method', 'binary']);
// RFC 9110 §5.6.2 token: what an HTTP method can be on the wire.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}$/;
const PORT = /^\d{1,5}$/;
const MAX_VALUE = 8192;

const fail = (parameter: string, detail: string): ParsedCheckQuery => ({
  ok: false,
  parameter,
  detail,
});

/**
 * Parses the query string of `/v1/check` (without the leading `?`): either `url=` (an
 * absolute http(s) URL, percent-encoded as a query value) or `host=` with optional
 * `port=` (default 443) and `path=` (default `/`); optional `method=` and `binary=`.
 * Strict: unknown or repeated parameters are refused, so a typo never silently checks
 * something other than what the caller meant.
 */
export function parseCheckQuery(search: string): ParsedCheckQuery {
  const values = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(search)) {
    if (!KNOWN.has(name)) {
      return fail(name, `unknown parameter; use url= (or host=, port=, path=), method=, binary=`);
    }
    if (values.has(name)) return fail(name, 'given more than once');
    if (value.length > MAX_VALUE) return fail(name, `longer than ${MAX_VALUE} characters`);
    if (/[\0\r\n]/.test(value)) return fail(name, 'contains NUL, CR or LF');
    values.set(name, value);
  }
  const methodText = values.get('method') ?? 'GET';
  // Node's HTTP parser accepts only upper-case methods, so a real request is always upper-case.
  if (!TOKEN.test(methodText)) return fail('method', 'must be an HTTP method token, e.g. POST');
  const method = methodText.toUpperCase();
  const binary = values.get('binary') ?? null;
  if (binary !== null && !binary.startsWith('/')) {
    return fail('binary', 'must be an absolute executable path, e.g. /usr/bin/curl');
  }
  const url = values.get('url');
  if (url !== undefined) {
    for (const other of ['host', 'port', 'path']) {
      if (values.has(other)) return fail(other, 'give either url= or host= (with port=, path=)');
    }
    const target = parseCheckUrl(url);
    return target.ok ? { ok: true, query: { ...target.query, method, binary } } : target;
  }
  const hostText = values.get('host');
  if (hostText === undefined) return fail('url', 'missing: give url= or host=');
  const portText = values.get('port') ?? '443';
  const port = PORT.test(portText) ? Number(portText) : 0;
  if (port < 1 || port > 65535) return fail('port', 'must be a number from 1 to 65535');
  // Through parseAuthority, so the host is normalised exactly as a CONNECT authority is.
  const authority = parseAuthority(
    hostText.includes(':') && !hostText.startsWith('[') ? `[${hostText}]` : hostText,
    port,
  );
  if (!authority || authority.port !== port) {
    return fail('host', 'must be a host name or IP address without port (use port=)');
  }
  const target = values.get('path') ?? '/';
  if (!target.startsWith('/')) return fail('path', 'must start with /');
  return { ok: true, query: { ...authority, target, method, binary } };
}

function parseCheckUrl(
  url: string,
):
  | { readonly ok: true; readonly query: Authority & { readonly target: string } }
  | { readonly ok: false; readonly parameter: string; readonly detail: string } {
  const sep = url.indexOf('://');
  const scheme = sep === -1 ? '' : url.slice(0, sep).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    return { ok: false, parameter: 'url', detail: 'must be an absolute http:// or https:// URL' };
  }
  const rest = url.slice(sep + 3);
  let end = rest.length;
  for (const c of ['/', '?', '#']) {
    const i = rest.indexOf(c);
    if (i !== -1 && i < end) end = i;
  }
  const authorityText = rest.slice(0, end);
  if (authorityText.includes('@')) {
    return { ok: false, parameter: 'url', detail: 'userinfo (user@host) is not allowed' };
  }
  const authority = parseAuthority(authorityText, scheme === 'https' ? 443 : 80);
  if (!authority) return { ok: false, parameter: 'url', detail: 'has an invalid host or port' };
  // Split by hand, not with WHATWG URL, which would resolve `..` and re-encode the path:
  // decide() must canonicalise the path itself, exactly as for a real request. Clients
  // never send the fragment, so it is dropped.
  let target = rest.slice(end).split('#', 1)[0] ?? '';
  if (target === '') target = '/';
  else if (target.startsWith('?')) target = `/${target}`;
  return { ok: true, query: { ...authority, target } };
}
