import { DEFAULT_POLICY, expandAccessPreset } from './default-policy.js';
// The matchers' own normalisation, so a stored host is spelled exactly as the decision
// function spells request hosts (one implementation, per DESIGN.md).
import { normalizeHost } from './match/normalize-host.js';
import type {
  Access,
  BinaryRef,
  Endpoint,
  Enforcement,
  FilesystemPolicy,
  HttpMatcher,
  InferencePolicy,
  InferenceRoutePermission,
  LandlockCompatibility,
  NetworkPolicy,
  Policy,
  ProcessPolicy,
  SensitivityRule,
} from './types.js';
import { normaliseAbsolutePath } from './validate/path-shape.js';
import { normaliseIdentity } from './validate/process.js';

/** Where include_workdir puts the working directory (the local driver binds it here). */
export const WORKDIR = '/sandbox';

// The shape of a policy file once the JSON Schema and the validators have accepted it.
// normalisePolicy only ever sees data of this shape; parsePolicy guarantees it.
interface MatcherData {
  readonly method: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | { readonly any: readonly string[] }>>;
}
interface EndpointData {
  readonly host: string;
  readonly port?: number;
  readonly ports?: readonly number[];
  readonly protocol?: 'rest';
  readonly tls?: 'auto' | 'terminate' | 'passthrough' | 'skip';
  readonly enforcement?: Enforcement;
  readonly access?: Access;
  readonly rules?: readonly { readonly allow: MatcherData }[];
  readonly deny_rules?: readonly MatcherData[];
  readonly allowed_ips?: readonly string[];
  readonly allow_encoded_slash?: boolean;
  readonly request_body_credential_rewrite?: boolean;
}
interface NetworkPolicyData {
  readonly name?: string;
  readonly endpoints: readonly EndpointData[];
  readonly binaries?: readonly { readonly path: string }[];
}
export interface PolicyData {
  readonly version: 1;
  readonly filesystem_policy?: {
    readonly include_workdir?: boolean;
    readonly read_only?: readonly string[];
    readonly read_write?: readonly string[];
  };
  readonly landlock?: { readonly compatibility?: LandlockCompatibility };
  readonly process?: {
    readonly run_as_user?: string | number;
    readonly run_as_group?: string | number;
  };
  readonly network_policies?: Readonly<Record<string, NetworkPolicyData>>;
  readonly inference?: {
    readonly default_route: string;
    readonly routes: Readonly<
      Record<string, { readonly kind: 'local' | 'frontier'; readonly models?: readonly string[] }>
    >;
    readonly sensitivity?: readonly SensitivityRule[];
  };
}

/** Turns validated policy data into a Policy: defaults filled, presets expanded, forms canonical. */
export function normalisePolicy(data: PolicyData): Policy {
  return {
    version: 1,
    filesystem_policy: normaliseFilesystem(data.filesystem_policy),
    landlock:
      data.landlock === undefined
        ? DEFAULT_POLICY.landlock
        : { compatibility: data.landlock.compatibility ?? 'best_effort' },
    process: normaliseProcess(data.process),
    network_policies: Object.fromEntries(
      Object.entries(data.network_policies ?? {}).map(([id, rule]) => [
        id,
        normaliseNetworkPolicy(id, rule),
      ]),
    ),
    ...(data.inference === undefined ? {} : { inference: normaliseInference(data.inference) }),
  };
}

function normaliseFilesystem(data: PolicyData['filesystem_policy']): FilesystemPolicy {
  if (data === undefined) return DEFAULT_POLICY.filesystem_policy;
  const includeWorkdir = data.include_workdir ?? true;
  const readWrite = (data.read_write ?? []).map(normaliseAbsolutePath);
  if (includeWorkdir && !readWrite.includes(WORKDIR)) readWrite.push(WORKDIR);
  return {
    include_workdir: includeWorkdir,
    read_only: (data.read_only ?? []).map(normaliseAbsolutePath),
    read_write: readWrite,
  };
}

function normaliseProcess(data: PolicyData['process']): ProcessPolicy {
  if (data === undefined) return DEFAULT_POLICY.process;
  return {
    run_as_user: normaliseIdentity(data.run_as_user ?? 'sandbox'),
    run_as_group: normaliseIdentity(data.run_as_group ?? 'sandbox'),
  };
}

function normaliseNetworkPolicy(id: string, data: NetworkPolicyData): NetworkPolicy {
  return {
    id,
    name: data.name ?? id,
    endpoints: data.endpoints.map(normaliseEndpoint),
    binaries: (data.binaries ?? []).map((binary): BinaryRef => ({ path: binary.path })),
  };
}

function normaliseEndpoint(data: EndpointData): Endpoint {
  // Validation guarantees that when both are set, `ports` contains `port`.
  const ports = [...new Set(data.ports ?? (data.port === undefined ? [] : [data.port]))];
  const isLayer7 =
    data.protocol === 'rest' ||
    data.access !== undefined ||
    data.rules !== undefined ||
    data.deny_rules !== undefined;
  const rules =
    data.access === undefined
      ? (data.rules ?? []).map((rule) => normaliseMatcher(rule.allow))
      : expandAccessPreset(data.access);
  return {
    host: normalizeHost(data.host),
    ports,
    ...(isLayer7 ? { protocol: 'rest' as const } : {}),
    tls: data.tls === 'skip' ? 'skip' : 'auto',
    enforcement: data.enforcement ?? 'enforce',
    ...(data.access === undefined ? {} : { access: data.access }),
    rules,
    deny_rules: (data.deny_rules ?? []).map(normaliseMatcher),
    allowed_ips: [...(data.allowed_ips ?? [])],
    allow_encoded_slash: data.allow_encoded_slash ?? false,
    request_body_credential_rewrite: data.request_body_credential_rewrite ?? false,
  };
}

function normaliseMatcher(data: MatcherData): HttpMatcher {
  return {
    method: data.method.toUpperCase(),
    path: data.path,
    // `query: {}` constrains nothing, exactly like no query; one form keeps hashes equal.
    ...(data.query === undefined || Object.keys(data.query).length === 0
      ? {}
      : {
          query: Object.fromEntries(
            Object.entries(data.query).map(([key, value]) => [
              key,
              typeof value === 'string' ? [value] : [...value.any],
            ]),
          ),
        }),
  };
}

function normaliseInference(data: NonNullable<PolicyData['inference']>): InferencePolicy {
  return {
    default_route: data.default_route,
    routes: Object.fromEntries(
      Object.entries(data.routes).map(([name, route]): [string, InferenceRoutePermission] => [
        name,
        { kind: route.kind, models: [...(route.models ?? [])] },
      ]),
    ),
    sensitivity: (data.sensitivity ?? []).map((rule): SensitivityRule => ({
      name: rule.name,
      ...(rule.builtin === undefined ? {} : { builtin: rule.builtin }),
      ...(rule.pattern === undefined ? {} : { pattern: rule.pattern }),
      action: rule.action,
    })),
  };
}
