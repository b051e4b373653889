/**
 * Builders for normalised `Policy` objects in tests: they construct the validated form
 * directly (no YAML), so compile/decide tests do not depend on the parser.
 */
import type {
  Access,
  Endpoint,
  Enforcement,
  HttpMatcher,
  NetworkPolicy,
  Policy,
} from '../types.js';

export interface EndpointSpec {
  readonly host: string;
  /** Default [443]. */
  readonly ports?: readonly number[];
  /** Default: 'rest' when rules, deny rules or access are given, else absent (L4 only). */
  readonly protocol?: 'rest' | null;
  readonly enforcement?: Enforcement;
  readonly access?: Access;
  /** `METHOD /path` strings or full matchers. */
  readonly rules?: readonly (string | HttpMatcher)[];
  readonly deny?: readonly (string | HttpMatcher)[];
  readonly allowEncodedSlash?: boolean;
  readonly tls?: 'auto' | 'skip';
  readonly allowedIps?: readonly string[];
}

export interface NetworkPolicySpec {
  readonly name?: string;
  readonly endpoints: readonly EndpointSpec[];
  readonly binaries: readonly string[];
}

/** `rule('GET /repos/**')`, `rule('GET /search', { q: 'repo:*' })`. */
export function rule(
  spec: string,
  query?: Readonly<Record<string, string | readonly string[]>>,
): HttpMatcher {
  const space = spec.indexOf(' ');
  if (space < 0) throw new Error(`rule spec needs "METHOD /path": ${spec}`);
  const base = { method: spec.slice(0, space).toUpperCase(), path: spec.slice(space + 1) };
  if (query === undefined) return base;
  const normalised: Record<string, readonly string[]> = {};
  for (const [key, value] of Object.entries(query)) {
    normalised[key] = typeof value === 'string' ? [value] : value;
  }
  return { ...base, query: normalised };
}

const PRESET_METHODS: Record<Access, readonly string[]> = {
  'read-only': ['GET', 'HEAD', 'OPTIONS'],
  'read-write': ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'],
  full: ['*'],
};

function toMatcher(value: string | HttpMatcher): HttpMatcher {
  return typeof value === 'string' ? rule(value) : value;
}

/** A normalised endpoint with the defaults the normaliser fills in. */
export function endpoint(spec: EndpointSpec): Endpoint {
  const rules = [
    ...(spec.access === undefined
      ? []
      : PRESET_METHODS[spec.access].map((method) => ({ method, path: '**' }))),
    ...(spec.rules ?? []).map(toMatcher),
  ];
  const denyRules = (spec.deny ?? []).map(toMatcher);
  const isRest =
    spec.protocol === 'rest' ||
    (spec.protocol === undefined && (rules.length > 0 || denyRules.length > 0));
  return {
    host: spec.host.toLowerCase(),
    ports: spec.ports ?? [443],
    ...(isRest ? { protocol: 'rest' as const } : {}),
    tls: spec.tls ?? 'auto',
    enforcement: spec.enforcement ?? 'enforce',
    ...(spec.access === undefined ? {} : { access: spec.access }),
    rules,
    deny_rules: denyRules,
    allowed_ips: spec.allowedIps ?? [],
    allow_encoded_slash: spec.allowEncodedSlash ?? false,
    request_body_credential_rewrite: false,
  };
}

/** A normalised network policy (name defaults to the id). */
export function networkPolicy(id: string, spec: NetworkPolicySpec): NetworkPolicy {
  return {
    id,
    name: spec.name ?? id,
    endpoints: spec.endpoints.map(endpoint),
    binaries: spec.binaries.map((path) => ({ path })),
  };
}

/** A whole normalised policy with default static sections and the given network policies. */
export function makePolicy(policies: Readonly<Record<string, NetworkPolicySpec>>): Policy {
  const networkPolicies: Record<string, NetworkPolicy> = {};
  for (const [id, spec] of Object.entries(policies)) networkPolicies[id] = networkPolicy(id, spec);
  return {
    version: 1,
    filesystem_policy: {
      include_workdir: true,
      read_only: ['/usr', '/lib', '/etc', '/proc', '/dev/urandom'],
      read_write: ['/sandbox', '/tmp', '/dev/null'],
    },
    landlock: { compatibility: 'best_effort' },
    process: { run_as_user: 'sandbox', run_as_group: 'sandbox' },
    network_policies: networkPolicies,
  };
}
