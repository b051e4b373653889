import type { HttpMatcher } from '../types.js';
import { compileGlob, type GlobMatcher } from '../match/compile-glob.js';

interface CompiledQueryKey {
  readonly key: string;
  readonly globs: readonly GlobMatcher[];
}

/** One allow or deny matcher, ready to test against a canonical request. */
export interface CompiledHttpMatcher {
  readonly source: HttpMatcher;
  /** Display form used as `Decision.rule`: `GET /repos/**` or `GET /search?q=a*|b*`. */
  readonly label: string;
  /** Upper-case method or `*`. */
  readonly method: string;
  readonly matchPath: GlobMatcher;
  /** null = any query. */
  readonly query: readonly CompiledQueryKey[] | null;
}

/** The request as `decide()` sees it after canonicalisation. */
export interface CanonicalRequest {
  /** Upper-case. */
  readonly method: string;
  readonly query: ReadonlyMap<string, readonly string[]>;
}

function toLabel(matcher: HttpMatcher): string {
  const base = `${matcher.method.toUpperCase()} ${matcher.path}`;
  if (matcher.query === undefined) return base;
  const parts = Object.entries(matcher.query).map(([key, globs]) => `${key}=${globs.join('|')}`);
  return parts.length === 0 ? base : `${base}?${parts.join('&')}`;
}

/** Compiles a rule's method, path glob and query globs. */
export function compileHttpMatcher(matcher: HttpMatcher): CompiledHttpMatcher {
  const query =
    matcher.query === undefined
      ? null
      : Object.entries(matcher.query).map(([key, globs]) => ({
          key,
          globs: globs.map((glob) => compileGlob(glob, { separator: null })),
        }));
  return {
    source: matcher,
    label: toLabel(matcher),
    method: matcher.method.toUpperCase(),
    matchPath: compileGlob(matcher.path, { separator: '/' }),
    query: query !== null && query.length === 0 ? null : query,
  };
}

/** RFC 9110 §9.3.2: HEAD is GET without a body, so a GET rule covers it; `*` is any method. */
export function isMethodMatch(ruleMethod: string, method: string): boolean {
  return ruleMethod === '*' || ruleMethod === method || (ruleMethod === 'GET' && method === 'HEAD');
}

function isAnyGlobMatch(globs: readonly GlobMatcher[], value: string): boolean {
  for (const glob of globs) if (glob(value)) return true;
  return false;
}

/**
 * Allow side: every listed key must be present and ALL its values must match one of its
 * globs — otherwise `?q=ok&q=evil` would pass on the first value. Keys are compared exactly
 * (case-sensitive) after percent-decoding, so `%71=evil` counts as `q`.
 */
export function isAllowQueryMatch(
  query: readonly CompiledQueryKey[] | null,
  actual: ReadonlyMap<string, readonly string[]>,
): boolean {
  if (query === null) return true;
  for (const { key, globs } of query) {
    const values = actual.get(key);
    if (values === undefined || values.length === 0) return false;
    for (const value of values) if (!isAnyGlobMatch(globs, value)) return false;
  }
  return true;
}

/**
 * Deny side (as OpenShell's Rego `deny_query_params_match`): every listed key must be
 * present — a missing key means the deny rule does not apply — and for each key ANY one
 * matching value triggers it, so a bad value cannot hide behind a good one.
 */
export function isDenyQueryMatch(
  query: readonly CompiledQueryKey[] | null,
  actual: ReadonlyMap<string, readonly string[]>,
): boolean {
  if (query === null) return true;
  for (const { key, globs } of query) {
    const values = actual.get(key);
    if (values === undefined) return false;
    let hit = false;
    for (const value of values) {
      if (isAnyGlobMatch(globs, value)) {
        hit = true;
        break;
      }
    }
    if (!hit) return false;
  }
  return true;
}

/** True when an allow matcher admits the request at `path`. */
export function isAllowMatch(
  matcher: CompiledHttpMatcher,
  request: CanonicalRequest,
  path: string,
): boolean {
  return (
    isMethodMatch(matcher.method, request.method) &&
    matcher.matchPath(path) &&
    isAllowQueryMatch(matcher.query, request.query)
  );
}

/** True when a deny matcher fires for the request at `path`. */
export function isDenyMatch(
  matcher: CompiledHttpMatcher,
  request: CanonicalRequest,
  path: string,
): boolean {
  return (
    isMethodMatch(matcher.method, request.method) &&
    matcher.matchPath(path) &&
    isDenyQueryMatch(matcher.query, request.query)
  );
}
