/**
 * Every code a policy diagnostic can carry. Errors (`ERR_POLICY_*`) block the policy;
 * warnings (`WARN_POLICY_*`) are shown but the policy still applies. These are diagnostic
 * codes inside one ERR_POLICY_INVALID failure, not entries of the error catalogue: a
 * caller that rejects a policy throws ERR_POLICY_INVALID with the diagnostics as details.
 */
export const POLICY_DIAGNOSTIC_CODES = {
  // --- the text itself
  /** The YAML is malformed (bad indentation, unclosed bracket, tab indent, two documents). */
  ERR_POLICY_YAML_SYNTAX: 'error',
  /** A mapping repeats a key. */
  ERR_POLICY_DUPLICATE_KEY: 'error',
  /** An explicit YAML tag (`!!binary`, `!foo`) that a policy cannot hold. */
  ERR_POLICY_YAML_TAG: 'error',
  /** The text is empty or only comments. */
  ERR_POLICY_EMPTY: 'error',
  /** The text, or its alias expansion, exceeds the size limit. */
  ERR_POLICY_TOO_LARGE: 'error',
  /** parsePolicy hit a bug; the message says where. The policy is refused (fail closed). */
  ERR_POLICY_INTERNAL: 'error',
  // --- structure (JSON Schema)
  /** A key the policy language does not know. */
  ERR_POLICY_UNKNOWN_KEY: 'error',
  /** A required key is absent. */
  ERR_POLICY_MISSING_KEY: 'error',
  /** A value has the wrong type (a list where a mapping belongs, a string for a port). */
  ERR_POLICY_TYPE: 'error',
  /** A value is not one of the allowed words (`enforcement: block`). */
  ERR_POLICY_INVALID_VALUE: 'error',
  /** A list that must not be empty is empty. */
  ERR_POLICY_EMPTY_LIST: 'error',
  /** A schema rule without a dedicated code failed (fallback; should not happen). */
  ERR_POLICY_SCHEMA: 'error',
  /** A field or value of OpenShell that this implementation does not support yet. */
  ERR_POLICY_NOT_SUPPORTED: 'error',
  /** `version` is absent or not 1. */
  ERR_POLICY_VERSION: 'error',
  // --- filesystem_policy
  /** A filesystem path is relative. */
  ERR_POLICY_PATH_NOT_ABSOLUTE: 'error',
  /** A path has a `..` segment. */
  ERR_POLICY_PATH_TRAVERSAL: 'error',
  /** `read_write: [/]` would make the whole host tree writable. */
  ERR_POLICY_PATH_TOO_BROAD: 'error',
  /** A path is longer than 4096 characters. */
  ERR_POLICY_PATH_TOO_LONG: 'error',
  /** A path is empty or holds control characters. */
  ERR_POLICY_PATH_INVALID: 'error',
  /** More than 256 paths in read_only and read_write together. */
  ERR_POLICY_TOO_MANY_PATHS: 'error',
  // --- process
  /** `run_as_user`/`run_as_group` is root or 0. */
  ERR_POLICY_RUN_AS_ROOT: 'error',
  /** `run_as_user`/`run_as_group` is neither `sandbox` nor a uid/gid 1..4294967294. */
  ERR_POLICY_RUN_AS_INVALID: 'error',
  // --- network_policies
  /** A network policy id starts with the reserved `_provider_` prefix. */
  ERR_POLICY_RESERVED_ID: 'error',
  /** A network policy id is empty or holds control characters. */
  ERR_POLICY_INVALID_ID: 'error',
  /** A display name is empty, too long or holds control characters (it is sent in headers). */
  ERR_POLICY_INVALID_NAME: 'error',
  /** A host is not a valid name or IP literal. */
  ERR_POLICY_HOST_INVALID: 'error',
  /** A wildcard host covers a whole top-level domain or everything. */
  ERR_POLICY_HOST_TOO_BROAD: 'error',
  /** A wildcard sits where it is not allowed (`**` after the first label, `a*b` in a middle label). */
  ERR_POLICY_HOST_WILDCARD: 'error',
  /** A host is an IP literal the proxy never connects to (loopback, link-local, unspecified). */
  ERR_POLICY_HOST_INTERNAL: 'error',
  /** An endpoint has neither `port` nor `ports`, or `ports: []`. */
  ERR_POLICY_PORT_MISSING: 'error',
  /** A port is outside 1..65535. */
  ERR_POLICY_PORT_RANGE: 'error',
  /** `port` and `ports` are both set and disagree. */
  ERR_POLICY_PORT_CONFLICT: 'error',
  /** An endpoint sets both `access` and `rules`. */
  ERR_POLICY_ACCESS_AND_RULES: 'error',
  /** `rules: []` or `deny_rules: []`. */
  ERR_POLICY_EMPTY_RULES: 'error',
  /** `deny_rules` without an allow set (`access` or `rules`) to subtract from. */
  ERR_POLICY_DENY_WITHOUT_ALLOW: 'error',
  /** `protocol: rest` without `access` or `rules`: every request would be denied. */
  ERR_POLICY_REST_WITHOUT_ALLOW: 'error',
  /** `tls: skip` together with L7 rules or body rewriting, which need TLS termination. */
  ERR_POLICY_TLS_SKIP_CONFLICT: 'error',
  /** An HTTP method that is not a token or `*`. */
  ERR_POLICY_METHOD: 'error',
  /** A rule path that does not start with `/` (and is not `**`), or holds `..`/whitespace. */
  ERR_POLICY_RULE_PATH: 'error',
  /** A query matcher is malformed (empty key, `{any: []}`). */
  ERR_POLICY_QUERY: 'error',
  /** An `allowed_ips` entry is not an IP address or CIDR. */
  ERR_POLICY_ALLOWED_IP_INVALID: 'error',
  /** An `allowed_ips` entry overlaps loopback, link-local, unspecified or multicast space. */
  ERR_POLICY_ALLOWED_IP_INTERNAL: 'error',
  /** A binary path is not absolute (or a glob starting with `/`), or holds `..`. */
  ERR_POLICY_BINARY_PATH: 'error',
  // --- inference
  /** `default_route` is not one of `routes`. */
  ERR_POLICY_UNKNOWN_ROUTE: 'error',
  /** A sensitivity rule sets both or neither of `builtin` and `pattern`. */
  ERR_POLICY_SENSITIVITY_DETECTOR: 'error',
  /** A sensitivity `pattern` is not a valid regular expression. */
  ERR_POLICY_INVALID_PATTERN: 'error',
  /** Two sensitivity rules share a name. */
  ERR_POLICY_DUPLICATE_NAME: 'error',
  // --- warnings: the policy applies, but something is probably not what the author meant
  /** `tls: terminate`/`passthrough` are accepted for compatibility and do nothing. */
  WARN_POLICY_TLS_NOOP: 'warning',
  /** A network policy without binaries allows nothing. */
  WARN_POLICY_NO_BINARIES: 'warning',
  /** A network policy without endpoints allows nothing. */
  WARN_POLICY_NO_ENDPOINTS: 'warning',
  /** `port` repeats a value already in `ports`. */
  WARN_POLICY_PORT_REDUNDANT: 'warning',
  /** `allow_encoded_slash` on an L4-only endpoint has no effect. */
  WARN_POLICY_ENCODED_SLASH_L4: 'warning',
  /** A `keep_local` sensitivity rule while no local route is permitted: matches are refused. */
  WARN_POLICY_NO_LOCAL_ROUTE: 'warning',
  /** The YAML parser's own warning. */
  WARN_POLICY_YAML: 'warning',
} as const satisfies Record<string, 'error' | 'warning'>;

export type PolicyDiagnosticCode = keyof typeof POLICY_DIAGNOSTIC_CODES;
