import { OpenShellError } from '@openshell/policy-schema';

export interface RequestUrl {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** Path and query exactly as written (not normalised: the policy engine canonicalises). */
  readonly target: string;
}

const URL_RE = /^(https?):\/\/([^/?#]+)([^#]*)(#.*)?$/i;

/**
 * Splits a URL for `policy check` without normalising its path. `new URL()` would resolve
 * `/a/../admin` to `/admin` before the policy engine sees it, hiding exactly the path
 * tricks the check is meant to show.
 */
export function parseRequestUrl(url: string): RequestUrl {
  const match = URL_RE.exec(url.trim());
  const invalid = (why: string): OpenShellError =>
    new OpenShellError(
      'ERR_USAGE',
      `--url ${JSON.stringify(url)}: ${why}; expected e.g. https://api.github.com/repos/o/r`,
    );
  if (match === null) throw invalid('not an http:// or https:// URL');
  const scheme = (match[1] ?? '').toLowerCase() === 'https' ? 'https' : 'http';
  let authority = match[2] ?? '';
  if (authority.includes('@')) throw invalid('user info (user@host) is not supported');
  let portText: string | undefined;
  let host: string;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) throw invalid('unterminated IPv6 literal');
    host = authority.slice(1, end);
    const rest = authority.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) throw invalid('junk after IPv6 literal');
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0) {
      portText = authority.slice(colon + 1);
      authority = authority.slice(0, colon);
    }
    host = authority;
  }
  if (host === '') throw invalid('missing host');
  let port = scheme === 'https' ? 443 : 80;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw invalid(`port ${JSON.stringify(portText)} is not 1..65535`);
    }
    port = Number(portText);
  }
  const target = match[3] === undefined || match[3] === '' ? '/' : match[3];
  return {
    scheme,
    host: host.toLowerCase(),
    port,
    target: target.startsWith('/') ? target : `/${target}`,
  };
}
