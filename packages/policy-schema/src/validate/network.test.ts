import { describe, expect, test } from 'vitest';
import {
  allCodes,
  endpointPolicy,
  errorCodes,
  parseValid,
  render,
  yaml,
} from '../test-helpers/policy-text.js';

function rulePolicy(id: string, extra = ''): string {
  return yaml`
    version: 1
    network_policies:
      ${id}:
        endpoints: [{ host: api.example.com, port: 443 }]
        binaries: [{ path: /usr/bin/curl }]
        ${extra}
  `;
}

describe('network policy ids and names', () => {
  test('ids starting with _provider_ are reserved', () => {
    expect(render(rulePolicy('_provider_github'))).toMatchInlineSnapshot(
      `"policy.yaml:3:3 network_policies._provider_github: rule id "_provider_github" starts with "_provider_", which is reserved for rules the gateway composes from providers — rename the rule"`,
    );
    expect(errorCodes(rulePolicy('provider_github'))).toEqual([]);
  });

  test('a name with a line break is refused (it is sent in a header)', () => {
    expect(render(rulePolicy('github', 'name: "GitHub\\r\\nX-Injected: 1"'))).toMatchInlineSnapshot(
      `"policy.yaml:6:11 network_policies.github.name: name "GitHub\\r\\nX-Injected: 1" must be 1..256 characters without control characters (it is sent in response headers) — or remove it to use the rule id"`,
    );
    expect(errorCodes(rulePolicy('github', 'name: GitHub API'))).toEqual([]);
  });

  test('an empty id is refused', () => {
    expect(render(rulePolicy('""'))).toMatchInlineSnapshot(
      `"policy.yaml:3:3 network_policies[""]: rule id "" must be 1..256 characters without control characters"`,
    );
    expect(errorCodes(rulePolicy('x'))).toEqual([]);
  });

  test('ids with dots are quoted in diagnostic paths', () => {
    expect(render(rulePolicy('"api.v2"', 'name: ""'))).toMatchInlineSnapshot(
      `"policy.yaml:6:11 network_policies["api.v2"].name: name "" must be 1..256 characters without control characters (it is sent in response headers) — or remove it to use the rule id"`,
    );
  });

  test('name defaults to the id', () => {
    expect(parseValid(rulePolicy('github')).network_policies['github']?.name).toBe('github');
  });
});

describe('binaries', () => {
  function binaries(list: string): string {
    return yaml`
      version: 1
      network_policies:
        api:
          endpoints: [{ host: api.example.com, port: 443 }]
          binaries: ${list}
    `;
  }

  test('a relative binary path is refused', () => {
    expect(render(binaries('[{ path: curl }]'))).toMatchInlineSnapshot(
      `"policy.yaml:5:24 network_policies.api.binaries[0].path: binary path "curl" is not absolute — binaries are matched on /proc/<pid>/exe, which is always absolute; write e.g. "/usr/bin/curl", or "/**" for any binary"`,
    );
    expect(errorCodes(binaries('[{ path: /usr/bin/curl }]'))).toEqual([]);
  });

  test('a binary path with ".." is refused', () => {
    expect(render(binaries('[{ path: /usr/bin/../bin/curl }]'))).toMatchInlineSnapshot(
      `"policy.yaml:5:24 network_policies.api.binaries[0].path: binary path "/usr/bin/../bin/curl" contains a ".." segment — executable paths are canonical, so it could never match"`,
    );
  });

  test.for([
    ['[{ path: "/**" }]', undefined],
    ['[{ path: "/usr/bin/*" }]', undefined],
    ['[{ path: "/sandbox/.uv/python/**/python3*" }]', undefined],
    ['[{ path: "**/curl" }]', 'ERR_POLICY_BINARY_PATH'],
    ['[{ path: "" }]', 'ERR_POLICY_BINARY_PATH'],
    ['[{ name: curl }]', 'ERR_POLICY_UNKNOWN_KEY'],
    ['[/usr/bin/curl]', 'ERR_POLICY_TYPE'],
  ] as const)('binaries %s → %s', ([list, code]) => {
    const codes = errorCodes(binaries(list));
    if (code === undefined) expect(codes).toEqual([]);
    else expect(codes).toContain(code);
  });

  test('missing or empty binaries warn that the rule allows nothing', () => {
    const missing = yaml`
      version: 1
      network_policies:
        api:
          endpoints: [{ host: api.example.com, port: 443 }]
    `;
    expect(render(missing)).toMatchInlineSnapshot(
      `"policy.yaml:3:3 network_policies.api: warning: network policy "api" lists no binaries, so no process may use it — add e.g. "binaries: [{path: /usr/bin/curl}]" (or "/**" for any binary)"`,
    );
    expect(allCodes(binaries('[]'))).toEqual(['WARN_POLICY_NO_BINARIES']);
    expect(parseValid(missing).network_policies['api']?.binaries).toEqual([]);
  });

  test('empty endpoints warn that the rule allows nothing', () => {
    const text = yaml`
      version: 1
      network_policies:
        api:
          endpoints: []
          binaries: [{ path: /usr/bin/curl }]
    `;
    expect(render(text)).toMatchInlineSnapshot(
      `"policy.yaml:4:5 network_policies.api.endpoints: warning: network policy "api" has no endpoints, so it allows nothing"`,
    );
  });

  test('missing endpoints are refused', () => {
    const text = yaml`
      version: 1
      network_policies:
        api:
          binaries: [{ path: /usr/bin/curl }]
    `;
    expect(render(text)).toMatchInlineSnapshot(
      `"policy.yaml:3:3 network_policies.api.endpoints: missing required key "endpoints" — add "endpoints:" with at least one {host, port}"`,
    );
  });
});

describe('features not supported yet', () => {
  test('network_middlewares names the feature and its line', () => {
    const text = yaml`
      version: 1
      network_middlewares:
        guard: { middleware: content-guard, order: 10 }
    `;
    expect(render(text)).toMatchInlineSnapshot(
      `"policy.yaml:2:1 network_middlewares: "network_middlewares" (supervisor middleware) is not supported yet — remove the section (requests pass through no middleware here)"`,
    );
    expect(errorCodes('version: 1\nnetwork_policies: {}\n')).toEqual([]);
  });

  test('protocol: tcp names the feature and suppresses unrelated noise', () => {
    const text = endpointPolicy('host: redis.example.com\nport: 6379\nprotocol: tcp\nrules: []');
    expect(render(text)).toMatchInlineSnapshot(
      `"policy.yaml:7:19 network_policies.api.endpoints[0].protocol: protocol "tcp" (transparent TCP) is not supported yet — remove protocol for an L4-only endpoint, or use protocol: rest for HTTP rules"`,
    );
  });

  test.for([
    ['protocol: websocket'],
    ['protocol: graphql'],
    ['protocol: mcp'],
    ['protocol: json-rpc'],
    ['protocol: sql'],
    ['path: /api/**'],
    ['credential_signing: sigv4'],
    ['persisted_queries: {}'],
    ['mcp: { max_body_bytes: 10 }'],
    ['json_rpc: { max_body_bytes: 10 }'],
    ['websocket_credential_rewrite: true'],
    ['credential_binding: { provider: github }'],
    ['allow_uninspected_credentials: true'],
  ] as const)('endpoint %s is "not supported yet"', ([line]) => {
    const result = errorCodes(endpointPolicy(`host: api.example.com\nport: 443\n${line}`));
    expect(result).toEqual(['ERR_POLICY_NOT_SUPPORTED']);
  });

  test('an endpoint path selector points at its key', () => {
    expect(
      render(endpointPolicy('host: api.example.com\nport: 443\npath: /v1/**')),
    ).toMatchInlineSnapshot(
      `"policy.yaml:7:9 network_policies.api.endpoints[0].path: "path" (endpoint path selectors) is not supported yet — remove the key"`,
    );
  });

  test('GraphQL and MCP rule fields are "not supported yet"', () => {
    const text = endpointPolicy(`
      host: api.example.com
      port: 443
      protocol: rest
      rules:
        - allow: { method: POST, path: /graphql, operation_type: query }
    `);
    expect(render(text)).toMatchInlineSnapshot(
      `"policy.yaml:9:52 network_policies.api.endpoints[0].rules[0].allow.operation_type: "operation_type" (GraphQL rules) is not supported yet — use method and path"`,
    );
  });
});
