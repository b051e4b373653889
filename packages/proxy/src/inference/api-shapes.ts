import type { CompiledRoute, InferenceApiShape } from './inference-routes.js';

/** A request the router recognises. */
export interface InferenceEndpoint {
  readonly shape: InferenceApiShape;
  /** POST endpoints carry a JSON body with a `model`; `GET /v1/models` has none. */
  readonly hasBody: boolean;
}

const POST_ENDPOINTS: ReadonlyMap<string, InferenceApiShape> = new Map([
  ['/v1/chat/completions', 'openai'],
  ['/v1/completions', 'openai'],
  ['/v1/responses', 'openai'],
  ['/v1/embeddings', 'openai'],
  ['/v1/messages', 'anthropic'],
]);

/**
 * Recognises the OpenAI-compatible and Anthropic Messages request shapes by method and
 * exact path (no prefix matching: `/v1/chat/completions/../../admin` is not a shape).
 * Anything else is refused, so the router cannot be used to reach other upstream APIs
 * (files, fine-tuning, batches, keys) with the route's credentials.
 */
export function classifyInferenceRequest(method: string, path: string): InferenceEndpoint | null {
  const upper = method.toUpperCase();
  if (upper === 'POST') {
    const shape = POST_ENDPOINTS.get(path);
    return shape ? { shape, hasBody: true } : null;
  }
  if (
    upper === 'GET' &&
    (path === '/v1/models' || /^\/v1\/models\/[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(path))
  )
    return { shape: 'openai', hasBody: false };
  return null;
}

/**
 * Caller headers that may reach the route, by shape. An allowlist rather than a denylist:
 * the caller's Authorization, x-api-key, cookies, organisation/project ids (which belong
 * to the caller's account, not the route's) and anything unknown never leave.
 */
const PASSED_HEADERS: Readonly<Record<InferenceApiShape, readonly string[]>> = {
  openai: ['accept', 'openai-beta'],
  anthropic: ['accept', 'anthropic-version', 'anthropic-beta'],
};

/** The Messages API refuses requests without a version; this is its documented stable one. */
const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

const PLACEHOLDER = /openshell:resolve:env:/i;
const UNSAFE = /[\r\n\0]/;

/** Builds the upstream request headers: allowlisted caller headers plus the route's own key. */
export function toRouteHeaders(
  route: CompiledRoute,
  rawHeaders: readonly string[],
  bodyLength: number | null,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const passed = PASSED_HEADERS[route.api];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    // A placeholder is a credential reference: it never travels, not even in an allowed header.
    if (!passed.includes(name) || PLACEHOLDER.test(value) || UNSAFE.test(value)) continue;
    if (headers[name] === undefined) headers[name] = value;
  }
  if (bodyLength !== null) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(bodyLength);
  }
  if (route.api === 'anthropic') {
    headers['anthropic-version'] ??= DEFAULT_ANTHROPIC_VERSION;
    if (route.apiKey !== null) headers['x-api-key'] = route.apiKey;
  } else if (route.apiKey !== null) {
    headers['authorization'] = `Bearer ${route.apiKey}`;
  }
  return headers;
}
