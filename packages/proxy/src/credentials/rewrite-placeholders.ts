import type { CompiledCredentials } from './credential-bindings.js';

/** `openshell:resolve:env:KEY` — what a sandboxed process sees instead of a secret. */
const PLACEHOLDER = /openshell:resolve:env:([A-Za-z_][A-Za-z0-9_]*)/g;
const MARKER = 'openshell:resolve:env:';

export type RewriteResult<T> =
  | { readonly ok: true; readonly value: T; readonly replaced: number }
  | {
      readonly ok: false;
      readonly error: 'credential_endpoint_mismatch' | 'credential_unavailable';
      readonly detail: string;
    };

/**
 * Replaces every placeholder in `text`, or fails on the first one that may not go to
 * `host`. `encode` turns a secret into the text's representation (bodies are handled as
 * latin1 strings so that arbitrary bytes survive; secrets are inserted as UTF-8 bytes).
 */
export function rewriteText(
  text: string,
  host: string,
  creds: CompiledCredentials,
  encode: (secret: string) => string = (secret) => secret,
): RewriteResult<string> {
  if (!text.includes(MARKER)) return { ok: true, value: text, replaced: 0 };
  const state: { failure: RewriteResult<string> | null; replaced: number } = {
    failure: null,
    replaced: 0,
  };
  const value = text.replace(PLACEHOLDER, (whole, key: string) => {
    if (state.failure) return whole;
    const resolved = creds.resolve(key, host);
    if (!resolved.ok) {
      state.failure = resolved;
      return whole;
    }
    state.replaced++;
    return encode(resolved.value);
  });
  return state.failure ?? { ok: true, value, replaced: state.replaced };
}

/**
 * `Authorization: Basic base64(user:pass)` hides a placeholder from a plain text search;
 * decode it, rewrite, and encode again (git and many SDKs send tokens this way).
 */
function rewriteBasic(
  value: string,
  host: string,
  creds: CompiledCredentials,
): RewriteResult<string> {
  const match = /^(\s*basic\s+)([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!match?.[1] || !match[2]) return { ok: true, value, replaced: 0 };
  const decoded = Buffer.from(match[2], 'base64').toString('utf8');
  const inner = rewriteText(decoded, host, creds);
  if (!inner.ok || inner.replaced === 0) return inner.ok ? { ok: true, value, replaced: 0 } : inner;
  return {
    ok: true,
    value: `${match[1]}${Buffer.from(inner.value, 'utf8').toString('base64')}`,
    replaced: inner.replaced,
  };
}

/**
 * Rewrites placeholders in raw header pairs (`[name, value, name, value, …]`). The
 * destination `host` is the one the request will actually reach, checked before any
 * secret is written, so a redirect or a Host trick cannot carry the secret elsewhere.
 */
export function rewriteHeaders(
  rawHeaders: readonly string[],
  host: string,
  creds: CompiledCredentials,
): RewriteResult<string[]> {
  const out: string[] = [];
  let replaced = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const value = rawHeaders[i + 1] ?? '';
    let result = rewriteText(value, host, creds);
    if (result.ok && result.replaced === 0 && name.toLowerCase() === 'authorization') {
      result = rewriteBasic(value, host, creds);
    }
    if (!result.ok) return result;
    replaced += result.replaced;
    out.push(name, result.value);
  }
  return { ok: true, value: out, replaced };
}

/** True when a header or a body chunk mentions a placeholder (cheap pre-check). */
export function hasPlaceholder(text: string): boolean {
  return text.includes(MARKER);
}

/** Rewrites a request's headers and target together; the first refusal wins. */
export function rewriteRequest(
  rawHeaders: readonly string[],
  target: string,
  host: string,
  creds: CompiledCredentials,
): RewriteResult<{ headers: string[]; target: string }> {
  const headers = rewriteHeaders(rawHeaders, host, creds);
  if (!headers.ok) return headers;
  const newTarget = rewriteText(target, host, creds);
  if (!newTarget.ok) return newTarget;
  return {
    ok: true,
    value: { headers: headers.value, target: newTarget.value },
    replaced: headers.replaced + newTarget.replaced,
  };
}
