import { isValidHost, normalizeHost } from '@openshell/policy-schema';

export interface Authority {
  /** Normalised by policy-schema (lower-case, no trailing dot, canonical IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatAuthority(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const PORT = /^\d{1,5}$/;

/**
 * Parses `host:port`, `[v6]:port` or (when `defaultPort` is given) a bare host. Returns
 * null for anything a policy could not match: userinfo, empty or invalid host, bad port.
 */
export function parseAuthority(text: string, defaultPort?: number): Authority | null {
  let hostText: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return null;
    hostText = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return null;
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon !== -1 && text.indexOf(':') !== colon) return null;
    hostText = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
  }
  let port: number;
  if (portText === undefined) {
    if (defaultPort === undefined) return null;
    port = defaultPort;
  } else {
    if (!PORT.test(portText)) return null;
    port = Number(portText);
  }
  if (port < 1 || port > 65535) return null;
  const host = normalizeHost(hostText);
  return isValidHost(host) ? { host, port } : null;
}

export type AbsoluteTarget =
  | { readonly ok: true; readonly authority: Authority; readonly target: string }
  | { readonly ok: false; readonly status: 400; readonly detail: string };

/**
 * Splits an absolute-form request target (`http://host[:port]/path?query`, RFC 9112 §3.2.2)
 * by hand rather than with the WHATWG URL parser, which would resolve `..` and re-encode
 * the path: the decision must see the path exactly as it will be sent upstream.
 */
export function parseAbsoluteTarget(url: string): AbsoluteTarget {
  const sep = url.indexOf('://');
  const scheme = sep === -1 ? '' : url.slice(0, sep).toLowerCase();
  if (scheme === 'https') {
    return {
      ok: false,
      status: 400,
      detail: 'Use CONNECT for HTTPS URLs (https:// in a forward-proxy request)',
    };
  }
  if (scheme !== 'http') {
    return {
      ok: false,
      status: 400,
      detail: 'the request target must be an absolute http:// URL (or use CONNECT host:port)',
    };
  }
  const rest = url.slice(sep + 3);
  let end = rest.length;
  for (const c of ['/', '?', '#']) {
    const i = rest.indexOf(c);
    if (i !== -1 && i < end) end = i;
  }
  const authorityText = rest.slice(0, end);
  if (authorityText.includes('@')) {
    return {
      ok: false,
      status: 400,
      detail: 'userinfo (user@host) is not allowed in proxy request URLs',
    };
  }
  const authority = parseAuthority(authorityText, 80);
  if (!authority)
    return {
      ok: false,
      status: 400,
      detail: `invalid host in request URL: ${JSON.stringify(authorityText.slice(0, 100))}`,
    };
  let target = rest.slice(end);
  if (target === '') target = '/';
  else if (target.startsWith('?')) target = `/${target}`;
  return { ok: true, authority, target };
}
