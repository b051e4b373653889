import { OpenShellError } from '@openshell/policy-schema';
import { InferenceApiShape, InferenceRouteKind, type InferenceRoute } from '@openshell/proto';
import { formatTime } from '../render/format-time.js';
import { renderTable } from '../render/render-table.js';

export const ROUTE_KIND_OPTIONS = ['local', 'frontier'] as const;
export const API_SHAPE_OPTIONS = ['openai', 'anthropic'] as const;

export const ROUTE_KINDS: Readonly<
  Record<(typeof ROUTE_KIND_OPTIONS)[number], InferenceRouteKind>
> = {
  local: InferenceRouteKind.INFERENCE_ROUTE_KIND_LOCAL,
  frontier: InferenceRouteKind.INFERENCE_ROUTE_KIND_FRONTIER,
};
export const API_SHAPES: Readonly<Record<(typeof API_SHAPE_OPTIONS)[number], InferenceApiShape>> = {
  openai: InferenceApiShape.INFERENCE_API_SHAPE_OPENAI,
  anthropic: InferenceApiShape.INFERENCE_API_SHAPE_ANTHROPIC,
};

function nameOf<T>(table: Readonly<Record<string, T>>, value: T): string {
  return Object.entries(table).find(([, v]) => v === value)?.[0] ?? 'unknown';
}

/**
 * The route's upstream URL, checked before it is stored: http(s) only, and no credentials in
 * the URL, because the URL is shown by `inference get` and the key belongs in --api-key-env.
 */
export function parseBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OpenShellError(
      'ERR_USAGE',
      `--base-url ${text}: not a URL; expected e.g. http://127.0.0.1:11434/v1 or https://api.anthropic.com`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OpenShellError(
      'ERR_USAGE',
      `--base-url ${text}: must start with http:// or https://`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new OpenShellError(
      'ERR_USAGE',
      '--base-url: remove the user:password from the URL and pass the key with --api-key-env VAR',
    );
  }
  return text;
}

/** Absent = keep the stored key; '' = remove it; else the key read from the named variable. */
export function resolveApiKey(
  flags: { readonly apiKeyEnv?: string | undefined; readonly noApiKey: boolean },
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (flags.noApiKey) return '';
  if (flags.apiKeyEnv === undefined) return undefined;
  const value = env[flags.apiKeyEnv];
  if (value === undefined || value === '') {
    throw new OpenShellError(
      'ERR_USAGE',
      `--api-key-env ${flags.apiKeyEnv}: the environment variable ${flags.apiKeyEnv} is not set — export it, or pass --no-api-key for a server that needs none`,
    );
  }
  return value;
}

/** Stable `-o json` of a route; `has_api_key` instead of the key, which the gateway never returns. */
export function routeToJson(route: InferenceRoute): Record<string, unknown> {
  return {
    name: route.name,
    kind: nameOf(ROUTE_KINDS, route.kind),
    base_url: route.baseUrl,
    api: nameOf(API_SHAPES, route.api),
    model: route.model,
    has_api_key: route.hasApiKey,
    updated_at: route.updatedAtMs > 0 ? new Date(route.updatedAtMs).toISOString() : null,
  };
}

/** `inference get` without a name: one row per route. */
export function formatRouteList(routes: readonly InferenceRoute[]): string {
  if (routes.length === 0) {
    return "No inference routes. Add one with 'openshell inference set --name local --kind local ...'.\n";
  }
  const rows = [...routes]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((r) => [
      r.name,
      nameOf(ROUTE_KINDS, r.kind),
      nameOf(API_SHAPES, r.api),
      r.model,
      r.baseUrl,
      r.hasApiKey ? 'yes' : 'no',
      formatTime(r.updatedAtMs),
    ]);
  return renderTable(['NAME', 'KIND', 'API', 'MODEL', 'BASE_URL', 'API_KEY', 'UPDATED'], rows);
}

/** `inference get NAME`: one `Label:` per line. */
export function formatRouteDetails(route: InferenceRoute): string {
  const rows: [string, string][] = [
    ['Name', route.name],
    ['Kind', nameOf(ROUTE_KINDS, route.kind)],
    ['API', nameOf(API_SHAPES, route.api)],
    ['Model', route.model],
    ['Base URL', route.baseUrl],
    ['API key', route.hasApiKey ? 'set' : 'none'],
    ['Updated', formatTime(route.updatedAtMs)],
  ];
  return `${rows.map(([label, value]) => `${`${label}:`.padEnd(10)}${value}`).join('\n')}\n`;
}
