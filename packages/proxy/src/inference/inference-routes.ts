import { OpenShellError } from '@openshell/policy-schema';

/** The API dialect a route's upstream speaks (and the requests it can take). */
export type InferenceApiShape = 'openai' | 'anthropic';

/**
 * One upstream the inference router may forward to, as the gateway pushes it
 * (proto `InferenceRouteConfig`). Shared by all sandboxes; each sandbox's policy picks
 * among them by name. `apiKey` is a secret: kept in memory only, never logged or persisted.
 */
export interface InferenceRoute {
  readonly name: string;
  /** `local` may receive anything; `frontier` only requests every sensitivity rule lets out. */
  readonly kind: 'local' | 'frontier';
  /**
   * `http(s)://host[:port][/prefix]`. A trailing `/v1` is optional: both
   * `http://127.0.0.1:11434/v1` and `https://api.anthropic.com` work.
   */
  readonly baseUrl: string;
  readonly api: InferenceApiShape;
  /** Model substituted for whatever the caller asked, unless the policy lets it ask for that one. */
  readonly model: string;
  /** Sent as `Authorization: Bearer` (openai) or `x-api-key` (anthropic); absent = none. */
  readonly apiKey?: string;
}

/** A validated route with its URL taken apart. */
export interface CompiledRoute {
  readonly name: string;
  readonly kind: 'local' | 'frontier';
  readonly api: InferenceApiShape;
  readonly model: string;
  readonly apiKey: string | null;
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port: number;
  /** Path prefix without a trailing slash and without a final `/v1` (`''` for none). */
  readonly basePath: string;
}

export type RouteTable = ReadonlyMap<string, CompiledRoute>;

function invalid(index: number, what: string): OpenShellError {
  return new OpenShellError(
    'ERR_USAGE',
    `inference route #${index + 1}: ${what} (each route needs name, kind: local|frontier, baseUrl: http(s)://host:port[/v1], api: openai|anthropic, model, optional apiKey)`,
  );
}

function compileOne(raw: unknown, index: number): CompiledRoute {
  if (typeof raw !== 'object' || raw === null) throw invalid(index, 'not an object');
  const r = raw as Partial<Record<keyof InferenceRoute, unknown>>;
  if (typeof r.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(r.name))
    throw invalid(index, `name ${JSON.stringify(r.name)} must be 1-63 letters, digits, . _ -`);
  const named = (what: string): OpenShellError => invalid(index, `(${r.name as string}) ${what}`);
  if (r.kind !== 'local' && r.kind !== 'frontier')
    throw named(`kind ${JSON.stringify(r.kind)} is not local or frontier`);
  if (r.api !== 'openai' && r.api !== 'anthropic')
    throw named(`api ${JSON.stringify(r.api)} is not openai or anthropic`);
  if (typeof r.model !== 'string' || r.model.trim() === '')
    throw named('model must be a non-empty string (the router substitutes it)');
  if (r.apiKey !== undefined && typeof r.apiKey !== 'string')
    throw named('apiKey must be a string');
  if (typeof r.apiKey === 'string' && /[\r\n\0]/.test(r.apiKey))
    throw named('apiKey contains CR, LF or NUL');
  let url: URL;
  try {
    url = new URL(typeof r.baseUrl === 'string' ? r.baseUrl : '');
  } catch {
    throw named(`baseUrl ${JSON.stringify(r.baseUrl)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw named(`baseUrl scheme ${url.protocol} is not http: or https:`);
  // Credentials belong in apiKey (kept out of logs); a query or fragment would be dropped silently.
  if (url.username || url.password || url.search || url.hash)
    throw named('baseUrl must not contain userinfo, a query or a fragment');
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    name: r.name,
    kind: r.kind,
    api: r.api,
    model: r.model,
    apiKey: r.apiKey === undefined || r.apiKey === '' ? null : r.apiKey,
    protocol: url.protocol,
    hostname,
    port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
    basePath: url.pathname.replace(/\/+$/, '').replace(/\/v1$/, ''),
  };
}

/** Validates a full route set (names unique); throws ERR_USAGE naming the bad route. */
export function compileInferenceRoutes(routes: readonly InferenceRoute[]): RouteTable {
  if (!Array.isArray(routes))
    throw new OpenShellError('ERR_USAGE', 'inference routes must be a list of routes');
  const table = new Map<string, CompiledRoute>();
  routes.forEach((raw: unknown, index) => {
    const route = compileOne(raw, index);
    if (table.has(route.name))
      throw invalid(index, `name ${route.name} is used twice; route names must be unique`);
    table.set(route.name, route);
  });
  return table;
}

/** The upstream path for a request path `/v1/...`: the route's prefix, then `/v1/...`. */
export function toUpstreamPath(route: CompiledRoute, target: string): string {
  return `${route.basePath}${target}`;
}
