// Public surface of @openshell/policy-schema. Pure: no I/O, no side effects on import.
export type * from './types.js';
export { STATIC_SECTIONS, DYNAMIC_SECTIONS } from './types.js';
export {
  ERROR_CODES,
  GRPC_STATUS,
  isErrorCode,
  type ErrorCode,
  type ErrorCodeInfo,
} from './errors/catalogue.js';
export {
  OpenShellError,
  isOpenShellError,
  toOpenShellError,
  exitCodeOf,
  type OpenShellErrorOptions,
} from './errors/openshell-error.js';
// Compile and decide (compile/, decide/, match/).
export {
  compilePolicy,
  type CompiledPolicy,
  type CompiledNetworkPolicy,
  type CompiledEndpoint,
} from './compile/compile-policy.js';
export { type HostIndex } from './compile/host-index.js';
export { type CompiledHttpMatcher } from './compile/compile-http-matcher.js';
export { decide } from './decide/decide.js';
export {
  canonicalizeTarget,
  MAX_TARGET_LENGTH,
  type CanonicalTarget,
  type CanonicalizeOptions,
} from './decide/canonicalize-target.js';
export {
  compileGlob,
  hasGlobMeta,
  type GlobMatcher,
  type GlobOptions,
} from './match/compile-glob.js';
export { compileHostPattern, type HostMatcher } from './match/compile-host-pattern.js';
export { normalizeHost, isValidHost, toValidHost } from './match/normalize-host.js';
// --- parsing, validation, normalisation, hashing and display (policy-schema parse half)
export { POLICY_JSON_SCHEMA } from './schema/policy-json-schema.js';
export { POLICY_DIAGNOSTIC_CODES, type PolicyDiagnosticCode } from './diagnostic-codes.js';
export {
  parsePolicy,
  MAX_POLICY_TEXT_LENGTH,
  type ParsePolicyOptions,
} from './parse/parse-policy.js';
export { formatDiagnostic } from './format-diagnostic.js';
export { DEFAULT_POLICY, ACCESS_PRESET_METHODS, expandAccessPreset } from './default-policy.js';
export { canonicalPolicyJson, hashPolicy } from './hash-policy.js';
export { policyToYaml } from './policy-to-yaml.js';
export {
  formatPolicyDocument,
  formatPolicyHeader,
  formatUtcTimestamp,
  stripPolicyHeader,
  type PolicyDocumentMeta,
  type PolicyRevisionStatus,
} from './format-document.js';
export {
  diffStatic,
  diffNetworkPolicies,
  type StaticChange,
  type NetworkPolicyDiff,
} from './diff-policy.js';
export {
  PROVIDER_TYPES,
  findProviderType,
  findProviderTypeForCommand,
  checkProviderHost,
  isCredentialKey,
  type ProviderType,
  type ProviderTypeInfo,
} from './providers/provider-types.js';
export {
  AGENT_PRESETS,
  findAgentPreset,
  type AgentName,
  type AgentPreset,
} from './presets/agent-presets.js';
