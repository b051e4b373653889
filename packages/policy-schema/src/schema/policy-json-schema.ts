import { NETWORK_DEFINITIONS } from './network-schema.js';

const PATH_LIST_RULES =
  'Absolute paths, no ".." segment, at most 4096 characters each, at most 256 paths in read_only and read_write together.';

const INFERENCE_DEFINITIONS = {
  inference: {
    type: 'object',
    description:
      'Dynamic (hot-reloaded). Which inference routes behind https://inference.local this sandbox may use. Absent = inference.local refuses every request.',
    additionalProperties: false,
    required: ['default_route', 'routes'],
    properties: {
      default_route: {
        type: 'string',
        description: 'Route used when a request names none. Must be a key of routes.',
      },
      routes: {
        type: 'object',
        description:
          'Routes (configured with `openshell inference set`) this sandbox may use, name -> permission. Empty ({}) is refused because default_route must name one.',
        additionalProperties: { $ref: '#/definitions/inferenceRoute' },
      },
      sensitivity: {
        type: 'array',
        description:
          'Content rules checked before a request leaves for a frontier route. Absent or empty = no content rules (frontier routes receive what the caller sends).',
        items: { $ref: '#/definitions/sensitivityRule' },
      },
    },
  },
  inferenceRoute: {
    type: 'object',
    description: 'Permission to use one route.',
    additionalProperties: false,
    required: ['kind'],
    properties: {
      kind: {
        type: 'string',
        enum: ['local', 'frontier'],
        description:
          '"local" routes may receive anything; "frontier" routes only requests no sensitivity rule keeps local or refuses.',
      },
      models: {
        type: 'array',
        description:
          "Models the sandbox may ask for on this route. Absent or empty = only the route's configured model.",
        items: { type: 'string' },
      },
    },
  },
  sensitivityRule: {
    type: 'object',
    description:
      'A content detector and what to do when it matches. Exactly one of builtin, pattern.',
    additionalProperties: false,
    required: ['name', 'action'],
    properties: {
      name: { type: 'string', description: 'Unique name, shown in logs when the rule fires.' },
      builtin: {
        type: 'string',
        enum: ['secrets', 'private_keys'],
        description:
          'Built-in detector: "secrets" (API keys and tokens), "private_keys" (PEM private-key blocks).',
      },
      pattern: {
        type: 'string',
        description:
          'A JavaScript regular expression (compiled with the "u" flag) matched against the request content. Must not be empty.',
      },
      action: {
        type: 'string',
        enum: ['keep_local', 'refuse'],
        description:
          '"keep_local" sends a matching request to a local route instead; "refuse" answers 403.',
      },
    },
  },
} as const;

/**
 * JSON Schema (draft-07) of a policy file, version 1. Shape only: rules that need code
 * (wildcards, CIDRs, cross-field checks) are in src/validate/ and named in descriptions.
 * Usable by editors (yaml-language-server) as well as by parsePolicy.
 */
export const POLICY_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'OpenShell sandbox policy',
  description:
    'A sandbox policy, version 1. Static sections (filesystem_policy, landlock, process) are applied at sandbox creation; dynamic sections (network_policies, inference) hot-reload.',
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: {
    version: { const: 1, description: 'Policy language version. Required; must be 1.' },
    filesystem_policy: {
      type: 'object',
      description:
        "Static. What the sandbox can see of the host's files. Absent = the default (read_only /usr, /lib, /etc, /proc, /dev/urandom; read_write /sandbox, /tmp, /dev/null; include_workdir true). When present, absent lists are empty: defaults are not merged in.",
      additionalProperties: false,
      properties: {
        include_workdir: {
          type: 'boolean',
          description:
            'Add /sandbox (the working directory) to read_write when not already listed. Absent = true.',
        },
        read_only: {
          type: 'array',
          description: `Paths the sandbox may read. Absent or empty = nothing read-only. ${PATH_LIST_RULES}`,
          items: { type: 'string' },
        },
        read_write: {
          type: 'array',
          description: `Paths the sandbox may read and write. Absent or empty = nothing writable except /sandbox when include_workdir is true. "/" is refused as too broad. ${PATH_LIST_RULES}`,
          items: { type: 'string' },
        },
      },
    },
    landlock: {
      type: 'object',
      description: 'Static. How Landlock is applied. Absent = {compatibility: best_effort}.',
      additionalProperties: false,
      properties: {
        compatibility: {
          type: 'string',
          enum: ['best_effort', 'hard_requirement'],
          description:
            '"best_effort" applies what the kernel supports and says loudly what is not enforced; "hard_requirement" refuses to start without it. Absent = best_effort.',
        },
      },
    },
    process: {
      type: 'object',
      description: 'Static. The identity the agent runs as. Absent = sandbox:sandbox.',
      additionalProperties: false,
      properties: {
        run_as_user: {
          type: ['string', 'integer'],
          description:
            '"sandbox" or a numeric uid 1..4294967294. "root" and 0 are refused. Absent = sandbox.',
        },
        run_as_group: {
          type: ['string', 'integer'],
          description:
            '"sandbox" or a numeric gid 1..4294967294. "root" and 0 are refused. Absent = sandbox.',
        },
      },
    },
    network_policies: {
      type: 'object',
      description:
        'Dynamic (hot-reloaded). Rule id -> rule. Absent or empty ({}) = deny all egress. Ids starting with "_provider_" are reserved.',
      additionalProperties: { $ref: '#/definitions/networkPolicy' },
    },
    inference: {
      $ref: '#/definitions/inference',
      description:
        'Dynamic (hot-reloaded). Which inference routes this sandbox may use. Absent = inference.local refuses every request.',
    },
  },
  definitions: { ...NETWORK_DEFINITIONS, ...INFERENCE_DEFINITIONS },
} as const;
