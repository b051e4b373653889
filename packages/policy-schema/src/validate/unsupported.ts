import { entriesOf, getOwn, isRecord, listOf } from './guards.js';
import { createIssue, type Issue, type PathSegment } from './issue.js';

// OpenShell features this implementation does not have yet. Each gets its own diagnostic so
// a user bringing an OpenShell file learns which feature is missing, instead of reading
// "unknown key" and guessing whether it is a typo.
const UNSUPPORTED_TOP_LEVEL: Readonly<Record<string, string>> = {
  network_middlewares: 'supervisor middleware',
};

const UNSUPPORTED_ENDPOINT_KEYS: Readonly<Record<string, string>> = {
  path: 'endpoint path selectors',
  credential_signing: 'AWS SigV4 credential signing',
  signing_service: 'AWS SigV4 credential signing',
  signing_region: 'AWS SigV4 credential signing',
  credential_binding: 'credential binding to endpointless providers',
  allow_uninspected_credentials: 'credentials over uninspected (L4) connections',
  websocket_credential_rewrite: 'WebSocket credential rewriting',
  persisted_queries: 'GraphQL persisted queries',
  graphql_persisted_queries: 'GraphQL persisted queries',
  graphql_max_body_bytes: 'GraphQL inspection',
  mcp: 'MCP inspection',
  json_rpc: 'JSON-RPC inspection',
};

const UNSUPPORTED_PROTOCOLS: Readonly<Record<string, string>> = {
  tcp: 'transparent TCP',
  websocket: 'WebSocket inspection',
  graphql: 'GraphQL inspection',
  mcp: 'MCP inspection',
  'json-rpc': 'JSON-RPC inspection',
  sql: 'SQL inspection',
};

const UNSUPPORTED_MATCHER_KEYS: Readonly<Record<string, string>> = {
  operation_type: 'GraphQL rules',
  operation_name: 'GraphQL rules',
  fields: 'GraphQL rules',
  tool: 'MCP rules',
  params: 'MCP rules',
};

/** True for a protocol value this implementation knows but does not support yet. */
export function isUnsupportedProtocol(value: unknown): boolean {
  return typeof value === 'string' && Object.hasOwn(UNSUPPORTED_PROTOCOLS, value);
}

/** Finds OpenShell features that are valid there but not implemented here, by name and place. */
export function findUnsupportedFeatures(data: unknown): Issue[] {
  if (!isRecord(data)) return [];
  const issues: Issue[] = [];
  for (const [key, feature] of Object.entries(UNSUPPORTED_TOP_LEVEL)) {
    if (Object.hasOwn(data, key)) {
      issues.push(
        unsupportedKey(
          [key],
          feature,
          'remove the section (requests pass through no middleware here)',
        ),
      );
    }
  }
  for (const [id, rule] of entriesOf(getOwn(data, 'network_policies'))) {
    if (!isRecord(rule)) continue;
    for (const [index, endpoint] of listOf(getOwn(rule, 'endpoints')).entries()) {
      if (!isRecord(endpoint)) continue;
      issues.push(...findInEndpoint(endpoint, ['network_policies', id, 'endpoints', index]));
    }
  }
  return issues;
}

function findInEndpoint(endpoint: Record<string, unknown>, path: PathSegment[]): Issue[] {
  const issues: Issue[] = [];
  const protocol = getOwn(endpoint, 'protocol');
  if (typeof protocol === 'string' && isUnsupportedProtocol(protocol)) {
    const feature = UNSUPPORTED_PROTOCOLS[protocol] ?? protocol;
    issues.push(
      createIssue(
        [...path, 'protocol'],
        'ERR_POLICY_NOT_SUPPORTED',
        `protocol "${protocol}" (${feature}) is not supported yet — remove protocol for an L4-only endpoint, or use protocol: rest for HTTP rules`,
        { expected: 'no protocol (L4) or "rest"', actual: JSON.stringify(protocol), claims: path },
      ),
    );
  }
  for (const [key, feature] of Object.entries(UNSUPPORTED_ENDPOINT_KEYS)) {
    if (Object.hasOwn(endpoint, key)) {
      issues.push(unsupportedKey([...path, key], feature, 'remove the key'));
    }
  }
  const matchers = [
    ...listOf(getOwn(endpoint, 'rules')).map((rule, index) => ({
      value: isRecord(rule) ? getOwn(rule, 'allow') : undefined,
      at: [...path, 'rules', index, 'allow'],
    })),
    ...listOf(getOwn(endpoint, 'deny_rules')).map((value, index) => ({
      value,
      at: [...path, 'deny_rules', index],
    })),
  ];
  for (const matcher of matchers) {
    if (!isRecord(matcher.value)) continue;
    for (const [key, feature] of Object.entries(UNSUPPORTED_MATCHER_KEYS)) {
      if (Object.hasOwn(matcher.value, key)) {
        issues.push(unsupportedKey([...matcher.at, key], feature, 'use method and path'));
      }
    }
  }
  return issues;
}

function unsupportedKey(path: PathSegment[], feature: string, fix: string): Issue {
  const key = String(path.at(-1));
  return createIssue(
    path,
    'ERR_POLICY_NOT_SUPPORTED',
    `"${key}" (${feature}) is not supported yet — ${fix}`,
    {
      at: 'key',
      actual: JSON.stringify(key),
      claims: path,
    },
  );
}
