/**
 * JSON Schema definitions for `network_policies` (part of POLICY_JSON_SCHEMA). The schema
 * describes shape; rules it cannot express (host wildcards, CIDRs, `access` xor `rules`)
 * live in src/validate/ and are listed in each `description` so editors show them.
 */

const HTTP_MATCHER_PROPERTIES = {
  method: {
    type: 'string',
    description:
      'HTTP method (a token such as GET, case-insensitive, stored upper-case) or "*" for any. A GET rule also matches HEAD.',
  },
  path: {
    type: 'string',
    description:
      'Glob over the canonical request path (percent-decoded, dot segments resolved, "//" collapsed). Starts with "/" or is "**". "*" stays within one segment, "**" crosses segments. No ".." segments.',
  },
  query: {
    type: 'object',
    description:
      'Query parameters to match, key -> glob or {any: [globs]}. Absent = any query. Empty ({}) = same as absent. On an allow rule every listed key must be present and all its values must match; on a deny rule any matching value triggers it.',
    additionalProperties: { $ref: '#/definitions/queryValue' },
  },
} as const;

export const NETWORK_DEFINITIONS = {
  networkPolicy: {
    type: 'object',
    description: 'One network rule: which binaries may reach which endpoints.',
    additionalProperties: false,
    required: ['endpoints'],
    properties: {
      name: {
        type: 'string',
        description:
          'Display name shown in denials and logs (X-OpenShell-Policy header). Absent = the rule id (the map key). No control characters, at most 256 characters.',
      },
      endpoints: {
        type: 'array',
        description:
          'Destinations this rule allows. Required. Empty ([]) = the rule allows nothing (warning).',
        items: { $ref: '#/definitions/endpoint' },
      },
      binaries: {
        type: 'array',
        description:
          'Executables allowed to use the endpoints, matched against /proc/<pid>/exe of the caller or any ancestor. Absent or empty = no binary matches, so the rule allows nothing (warning). Use [{path: "/**"}] for any binary.',
        items: { $ref: '#/definitions/binary' },
      },
    },
  },
  endpoint: {
    type: 'object',
    description: 'A host and port(s), optionally with L7 (HTTP) rules.',
    additionalProperties: false,
    required: ['host'],
    properties: {
      host: {
        type: 'string',
        description:
          'Exact host name (case-insensitive), IP literal, or wildcard: "*.example.com" matches one label, "**.example.com" one or more labels; "*" may also sit inside the first label ("*-aiplatform.googleapis.com") and a middle label may be a whole "*" ("*.s3.*.amazonaws.com"). Refused: bare "*"/"**", top-level-domain wildcards ("*.com"), "**" outside the first label, partial middle-label wildcards, loopback/link-local IP literals.',
      },
      port: {
        type: 'integer',
        minimum: 1,
        maximum: 65535,
        description:
          'One TCP port, 1..65535. Either port or ports is required. When both are set, ports wins and must contain port (otherwise the policy is refused).',
      },
      ports: {
        type: 'array',
        minItems: 1,
        description:
          'TCP ports, 1..65535, de-duplicated in the order written. Either port or ports is required; empty ([]) is refused.',
        items: { type: 'integer', minimum: 1, maximum: 65535 },
      },
      protocol: {
        type: 'string',
        enum: ['rest'],
        description:
          'Absent = L4 only (host, port and binary are checked; the bytes are relayed). "rest" = terminate TLS and check every HTTP request against access/rules. Absent together with access or rules means "rest". tcp, websocket, graphql, mcp, json-rpc and sql are not supported yet.',
      },
      tls: {
        type: 'string',
        enum: ['auto', 'terminate', 'passthrough', 'skip'],
        description:
          'Absent or "auto" = detect TLS and terminate it when L7 rules need it. "skip" = relay opaque bytes (cannot be combined with L7 rules). "terminate" and "passthrough" are accepted for compatibility and behave like "auto" (warning).',
      },
      enforcement: {
        type: 'string',
        enum: ['enforce', 'audit'],
        description:
          'What an L7 miss does: "enforce" (default here; OpenShell defaults to audit) answers 403, "audit" forwards and logs the violation. L4 misses (host/port/binary) are always denied.',
      },
      access: {
        type: 'string',
        enum: ['read-only', 'read-write', 'full'],
        description:
          'Preset allow set on path "**": read-only = GET, HEAD, OPTIONS; read-write = those + POST, PUT, PATCH; full = every method. Not together with rules. Implies protocol: rest.',
      },
      rules: {
        type: 'array',
        minItems: 1,
        description:
          'Allow rules; a request must match one. Absent = use access (or L4 only when access is absent too). Empty ([]) is refused because it would deny everything; not together with access. Implies protocol: rest.',
        items: { $ref: '#/definitions/allowRule' },
      },
      deny_rules: {
        type: 'array',
        minItems: 1,
        description:
          'Deny matchers that win over allows. Absent = nothing denied beyond the allow set. Empty ([]) is refused. Need access or rules to subtract from.',
        items: { $ref: '#/definitions/httpMatcher' },
      },
      allowed_ips: {
        type: 'array',
        description:
          'IPs or CIDRs in private ranges that this host may resolve to (the proxy refuses private addresses otherwise). Absent or empty = public addresses only. Entries overlapping loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16, fe80::/10), unspecified (0.0.0.0/8, ::) or multicast are refused.',
        items: { type: 'string' },
      },
      allow_encoded_slash: {
        type: 'boolean',
        description:
          'Keep "%2F" inside path segments instead of refusing the request (npm scoped packages, GitLab project ids). Absent = false. Only meaningful with L7 rules.',
      },
      request_body_credential_rewrite: {
        type: 'boolean',
        description:
          'Also replace credential placeholders in request bodies up to 256 KiB (headers are always rewritten). Absent = false. Needs TLS termination, so not with tls: skip.',
      },
    },
  },
  allowRule: {
    type: 'object',
    description: 'One allow rule: {allow: {method, path, query}}.',
    additionalProperties: false,
    required: ['allow'],
    properties: {
      allow: { $ref: '#/definitions/httpMatcher', description: 'The request shape to allow.' },
    },
  },
  httpMatcher: {
    type: 'object',
    description: 'An HTTP request shape: method, path glob and optional query matchers.',
    additionalProperties: false,
    required: ['method', 'path'],
    properties: HTTP_MATCHER_PROPERTIES,
  },
  queryValue: {
    title: 'a glob string or {any: [globs]}',
    type: ['string', 'object'],
    description:
      'A glob the value must match, or {any: [globs]}: the value must match one of them.',
    if: { type: 'object' },
    then: {
      additionalProperties: false,
      required: ['any'],
      properties: {
        any: {
          type: 'array',
          minItems: 1,
          description:
            'Globs; the value must match one. Required inside {any: ...}; empty ([]) is refused.',
          items: { type: 'string' },
        },
      },
    },
  },
  binary: {
    type: 'object',
    description: 'An executable allowed to use the endpoints.',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: {
        type: 'string',
        description:
          'Absolute path, or a glob starting with "/": "*" within one segment, "**" across segments; "/**" = any binary. No ".." segments.',
      },
    },
  },
} as const;
