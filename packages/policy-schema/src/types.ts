/**
 * The three shapes of a policy (STYLE.md "Names"):
 * - `RawPolicy`: whatever the YAML says (`unknown` until validated).
 * - `Policy`: validated and normalised (`port` → `ports`, defaults filled, presets expanded).
 * - `CompiledPolicy`: matchers ready for `decide()` (see compile-policy.ts).
 */

export type RawPolicy = unknown;

export type Access = 'read-only' | 'read-write' | 'full';
export type Enforcement = 'enforce' | 'audit';
export type LandlockCompatibility = 'best_effort' | 'hard_requirement';

/** A query matcher value: one glob, or `{ any: [globs] }` (normalised to a list). */
export type QueryMatcher = readonly string[];

/** One HTTP matcher, used by allow rules and deny rules alike. */
export interface HttpMatcher {
  /** Upper-case HTTP method, or `*` for any. A `GET` matcher also matches `HEAD`. */
  readonly method: string;
  /** Path glob over the canonical path: `*` within one segment, `**` across segments. */
  readonly path: string;
  /** Absent = any query. Keys map to the globs one of which each value must match. */
  readonly query?: Readonly<Record<string, QueryMatcher>>;
}

export interface Endpoint {
  /** Lower-cased host: exact name, IP literal, or a wildcard (`*.example.com`, `**.example.com`). */
  readonly host: string;
  /** 1..65535, de-duplicated, in the order written. */
  readonly ports: readonly number[];
  /** `rest` enables L7 inspection; absent = L4 only. */
  readonly protocol?: 'rest';
  /** `skip` relays opaque bytes; `auto` (default, also what `terminate`/`passthrough` mean) detects TLS. */
  readonly tls: 'auto' | 'skip';
  /** Default `enforce` (ours; OpenShell defaults to audit). */
  readonly enforcement: Enforcement;
  /** The preset as written, kept for display; its methods are already expanded into `rules`. */
  readonly access?: Access;
  /** Allow matchers (preset expansion included). Empty for L4-only endpoints. */
  readonly rules: readonly HttpMatcher[];
  /** Deny matchers; a match refuses the request even when an allow matches. */
  readonly deny_rules: readonly HttpMatcher[];
  /** CIDRs/IPs that may be reached although private. Never loopback/link-local/unspecified. */
  readonly allowed_ips: readonly string[];
  /** Keep `%2F` in paths instead of refusing it (npm scoped packages, GitLab project ids). */
  readonly allow_encoded_slash: boolean;
  /** Opt-in: credential placeholders are also rewritten in request bodies (≤ 256 KiB). */
  readonly request_body_credential_rewrite: boolean;
}

export interface BinaryRef {
  /** Absolute path or glob (`*` within a segment, `**` across); `/**` = any binary. */
  readonly path: string;
}

export interface NetworkPolicy {
  /** The map key (rule id). */
  readonly id: string;
  /** Display name; defaults to the id. */
  readonly name: string;
  readonly endpoints: readonly Endpoint[];
  /** Empty list matches no binary. */
  readonly binaries: readonly BinaryRef[];
}

export interface FilesystemPolicy {
  readonly include_workdir: boolean;
  readonly read_only: readonly string[];
  readonly read_write: readonly string[];
}

export interface ProcessPolicy {
  /** `sandbox` or a numeric uid 1..4294967294, as a string. */
  readonly run_as_user: string;
  readonly run_as_group: string;
}

export type SensitivityAction = 'keep_local' | 'refuse';

export interface InferenceRoutePermission {
  /** `local` routes may receive anything; `frontier` routes only what sensitivity rules allow. */
  readonly kind: 'local' | 'frontier';
  /** Models this sandbox may ask for on the route; empty = the route's configured model only. */
  readonly models: readonly string[];
}

export interface SensitivityRule {
  readonly name: string;
  /** Built-in detector (`secrets`, `private_keys`) or a custom regular expression (`pattern`). */
  readonly builtin?: 'secrets' | 'private_keys';
  readonly pattern?: string;
  readonly action: SensitivityAction;
}

export interface InferencePolicy {
  /** Route used when the request names none. Must be one of `routes`. */
  readonly default_route: string;
  /** Routes (configured with `openshell inference set`) this sandbox may use. */
  readonly routes: Readonly<Record<string, InferenceRoutePermission>>;
  readonly sensitivity: readonly SensitivityRule[];
}

export interface Policy {
  readonly version: 1;
  readonly filesystem_policy: FilesystemPolicy;
  readonly landlock: { readonly compatibility: LandlockCompatibility };
  readonly process: ProcessPolicy;
  readonly network_policies: Readonly<Record<string, NetworkPolicy>>;
  /** Absent = inference.local refuses every request. */
  readonly inference?: InferencePolicy;
}

export type PolicySection =
  'filesystem_policy' | 'landlock' | 'process' | 'network_policies' | 'inference';

export const STATIC_SECTIONS = ['filesystem_policy', 'landlock', 'process'] as const;
export const DYNAMIC_SECTIONS = ['network_policies', 'inference'] as const;

export interface Diagnostic {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** Dotted path with indices: `network_policies.github.endpoints[0].host`; `` for the document. */
  readonly path: string;
  /** Stable machine-readable code, e.g. `ERR_POLICY_HOST_TOO_BROAD`. */
  readonly code: string;
  /** Human message: what is wrong and how to fix it. */
  readonly message: string;
  readonly expected?: string;
  readonly actual?: string;
  readonly severity: 'error' | 'warning';
}

export interface ParseResult {
  /** Present only when there are no error diagnostics. */
  readonly policy?: Policy;
  readonly diagnostics: readonly Diagnostic[];
  /** Which top-level sections the text actually contained (absent ones took defaults). */
  readonly sections: readonly PolicySection[];
}

/** One request to decide: L4 (at CONNECT) when `method` is absent, L7 otherwise. */
export interface DecisionRequest {
  readonly host: string;
  readonly port: number;
  /** `/proc/<pid>/exe` of the caller. */
  readonly binary: string;
  /** Executables of the caller's ancestors, nearest first. */
  readonly ancestors?: readonly string[];
  readonly method?: string;
  /** Raw request target: path plus optional `?query`, as sent on the wire. */
  readonly target?: string;
}

export type DecisionAction = 'allow' | 'deny' | 'audit';

export interface Decision {
  readonly action: DecisionAction;
  readonly layer: 'l4' | 'l7';
  /** Id of the deciding network policy, or null when nothing matched. */
  readonly policy: string | null;
  /** Display name of that policy. */
  readonly policyName: string | null;
  /** The deciding rule, e.g. `GET /repos/**` or `L4 api.github.com:443`; null when nothing matched. */
  readonly rule: string | null;
  readonly reason: string;
  /** Which binary matched: the caller's or an ancestor's. */
  readonly matchedBinary: string | null;
  /** L4 allow only: the connection needs L7 inspection (some matching endpoint has `protocol: rest`). */
  readonly inspect: boolean;
  /** L7 only: the canonical path that was matched. */
  readonly canonicalPath?: string;
  /**
   * The endpoints that matched host, port and binary (set whenever some did): the proxy
   * reads `allowed_ips`, `tls`, `request_body_credential_rewrite` from them.
   */
  readonly endpoints?: readonly Endpoint[];
}
