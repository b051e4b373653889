import { describe, expect, test } from 'vitest';
import {
  allCodes,
  endpointPolicy,
  errorCodes,
  parseValid,
  render,
} from '../test-helpers/policy-text.js';

describe('endpoint ports', () => {
  test('an endpoint without port or ports is refused', () => {
    expect(render(endpointPolicy('host: api.example.com'))).toMatchInlineSnapshot(
      `"policy.yaml:5:9 network_policies.api.endpoints[0].port: endpoint has no port — add "port: 443" or "ports: [80, 443]""`,
    );
    expect(errorCodes(endpointPolicy('host: api.example.com\nport: 443'))).toEqual([]);
  });

  test('a port outside 1..65535 is refused', () => {
    expect(
      render(endpointPolicy('host: api.example.com\nports: [443, 70000]')),
    ).toMatchInlineSnapshot(
      `"policy.yaml:6:22 network_policies.api.endpoints[0].ports[1]: port 70000 is out of range — use a port between 1 and 65535"`,
    );
    expect(errorCodes(endpointPolicy('host: api.example.com\nports: [443, 65535]'))).toEqual([]);
  });

  test('port and ports that disagree are refused; agreeing ones only warn', () => {
    expect(
      render(endpointPolicy('host: api.example.com\nport: 8080\nports: [80, 443]')),
    ).toMatchInlineSnapshot(
      `"policy.yaml:6:9 network_policies.api.endpoints[0].port: port 8080 is not in ports [80, 443] — set either port or ports, not both"`,
    );
    expect(
      render(endpointPolicy('host: api.example.com\nport: 443\nports: [80, 443]')),
    ).toMatchInlineSnapshot(
      `"policy.yaml:6:9 network_policies.api.endpoints[0].port: warning: port 443 is already in ports — remove "port""`,
    );
    const policy = parseValid(
      endpointPolicy('host: api.example.com\nport: 443\nports: [80, 443, 80]'),
    );
    expect(policy.network_policies['api']?.endpoints[0]?.ports).toEqual([80, 443]);
  });

  test.for([
    ['port: 0', 'ERR_POLICY_PORT_RANGE'],
    ['port: -1', 'ERR_POLICY_PORT_RANGE'],
    ['port: 443.5', 'ERR_POLICY_TYPE'],
    ['port: "443"', 'ERR_POLICY_TYPE'],
    ['ports: []', 'ERR_POLICY_PORT_MISSING'],
    ['ports: 443', 'ERR_POLICY_TYPE'],
    ['port: 1', undefined],
    ['ports: [1, 65535]', undefined],
  ] as const)('%s → %s', ([ports, code]) => {
    expect(errorCodes(endpointPolicy(`host: api.example.com\n${ports}`))).toEqual(
      code === undefined ? [] : [code],
    );
  });
});

describe('L7 fields', () => {
  test('access and rules together are refused', () => {
    const both = endpointPolicy(`
      host: api.example.com
      port: 443
      access: read-only
      rules:
        - allow: { method: GET, path: /repos/** }
    `);
    expect(render(both)).toMatchInlineSnapshot(
      `"policy.yaml:8:9 network_policies.api.endpoints[0].rules: endpoint sets both access and rules — use access for a preset or rules for explicit matchers, not both"`,
    );
    expect(
      errorCodes(endpointPolicy('host: api.example.com\nport: 443\naccess: read-only')),
    ).toEqual([]);
  });

  test('rules: [] and deny_rules: [] are refused', () => {
    expect(
      render(endpointPolicy('host: api.example.com\nport: 443\nrules: []')),
    ).toMatchInlineSnapshot(
      `"policy.yaml:7:16 network_policies.api.endpoints[0].rules: "rules: []" would deny every request — list allow rules, use "access: read-only|read-write|full", or remove protocol and rules for L4-only"`,
    );
    expect(
      render(endpointPolicy('host: api.example.com\nport: 443\naccess: full\ndeny_rules: []')),
    ).toMatchInlineSnapshot(
      `"policy.yaml:8:21 network_policies.api.endpoints[0].deny_rules: "deny_rules: []" denies nothing — list deny matchers or remove the key"`,
    );
    expect(
      errorCodes(
        endpointPolicy(
          'host: api.example.com\nport: 443\naccess: full\ndeny_rules: [{ method: DELETE, path: "/**" }]',
        ),
      ),
    ).toEqual([]);
  });

  test('deny_rules without an allow set are refused', () => {
    const denyOnly = endpointPolicy(`
      host: api.example.com
      port: 443
      protocol: rest
      deny_rules: [{ method: POST, path: /admin/** }]
    `);
    expect(render(denyOnly)).toMatchInlineSnapshot(
      `"policy.yaml:8:9 network_policies.api.endpoints[0].deny_rules: deny_rules need an allow set to subtract from — add access (e.g. "access: read-only") or rules"`,
    );
    expect(errorCodes(denyOnly.replace('protocol: rest', 'access: read-write'))).toEqual([]);
  });

  test('protocol: rest without access or rules is refused', () => {
    expect(
      render(endpointPolicy('host: api.example.com\nport: 443\nprotocol: rest')),
    ).toMatchInlineSnapshot(
      `"policy.yaml:7:19 network_policies.api.endpoints[0].protocol: protocol: rest without access or rules would deny every request — add "access: read-only" (or read-write, full, rules), or remove protocol for L4-only"`,
    );
    expect(
      errorCodes(
        endpointPolicy('host: api.example.com\nport: 443\nprotocol: rest\naccess: read-write'),
      ),
    ).toEqual([]);
  });

  test('tls: skip with L7 rules is refused', () => {
    expect(
      render(endpointPolicy('host: api.example.com\nport: 443\ntls: skip\naccess: full')),
    ).toMatchInlineSnapshot(
      `"policy.yaml:7:14 network_policies.api.endpoints[0].tls: tls: skip relays opaque bytes, so L7 rules cannot be applied — remove "tls: skip" or the L7 fields (protocol, access, rules, deny_rules)"`,
    );
    expect(errorCodes(endpointPolicy('host: api.example.com\nport: 443\ntls: skip'))).toEqual([]);
  });

  test('tls: skip with body credential rewriting is refused', () => {
    expect(
      errorCodes(
        endpointPolicy(
          'host: api.example.com\nport: 443\ntls: skip\nrequest_body_credential_rewrite: true',
        ),
      ),
    ).toEqual(['ERR_POLICY_TLS_SKIP_CONFLICT']);
    expect(
      errorCodes(
        endpointPolicy('host: api.example.com\nport: 443\nrequest_body_credential_rewrite: true'),
      ),
    ).toEqual([]);
  });

  test('tls: terminate is a warning, not an error', () => {
    const text = endpointPolicy(
      'host: api.example.com\nport: 443\ntls: terminate\naccess: read-only',
    );
    expect(render(text)).toMatchInlineSnapshot(
      `"policy.yaml:7:14 network_policies.api.endpoints[0].tls: warning: tls: terminate has no effect — TLS is detected and terminated when L7 rules need it; remove the key (or use "skip" for an opaque relay)"`,
    );
    expect(parseValid(text).network_policies['api']?.endpoints[0]?.tls).toBe('auto');
  });

  test('allow_encoded_slash on an L4 endpoint warns that it does nothing', () => {
    expect(
      render(endpointPolicy('host: api.example.com\nport: 443\nallow_encoded_slash: true')),
    ).toMatchInlineSnapshot(
      `"policy.yaml:7:9 network_policies.api.endpoints[0].allow_encoded_slash: warning: allow_encoded_slash has no effect on an L4-only endpoint — paths are only inspected with access or rules"`,
    );
    expect(
      allCodes(endpointPolicy('host: api.example.com\nport: 443\nallow_encoded_slash: true')),
    ).toEqual(['WARN_POLICY_ENCODED_SLASH_L4']);
    expect(
      allCodes(
        endpointPolicy(
          'host: api.example.com\nport: 443\naccess: read-only\nallow_encoded_slash: true',
        ),
      ),
    ).toEqual([]);
  });

  test.for([
    ['tls: sometimes', 'ERR_POLICY_INVALID_VALUE'],
    ['enforcement: block', 'ERR_POLICY_INVALID_VALUE'],
    ['access: read-mostly', 'ERR_POLICY_INVALID_VALUE'],
    ['protocol: http', 'ERR_POLICY_INVALID_VALUE'],
    ['allow_encoded_slash: "yes"', 'ERR_POLICY_TYPE'],
    ['enforcement: audit', undefined],
    ['tls: passthrough', undefined],
  ] as const)('%s → %s', ([line, code]) => {
    expect(errorCodes(endpointPolicy(`host: api.example.com\nport: 443\n${line}`))).toEqual(
      code === undefined ? [] : [code],
    );
  });

  test('an unknown enforcement value names the allowed ones', () => {
    expect(
      render(endpointPolicy('host: api.example.com\nport: 443\nenforcement: block')),
    ).toMatchInlineSnapshot(
      `"policy.yaml:7:22 network_policies.api.endpoints[0].enforcement: enforcement "block" is not allowed — use one of "enforce", "audit""`,
    );
  });
});

describe('HTTP matchers', () => {
  function rule(allow: string): string {
    return endpointPolicy(`host: api.example.com\nport: 443\nrules:\n  - allow: ${allow}`);
  }

  test('an invalid method is refused', () => {
    expect(render(rule('{ method: "GE T", path: /x }'))).toMatchInlineSnapshot(
      `"policy.yaml:8:30 network_policies.api.endpoints[0].rules[0].allow.method: method "GE T" is not an HTTP method — use a token such as GET or POST, or "*" for any"`,
    );
    expect(errorCodes(rule('{ method: get, path: /x }'))).toEqual([]);
  });

  test('a rule path must start with "/" or be "**"', () => {
    expect(render(rule('{ method: GET, path: "repos/**" }'))).toMatchInlineSnapshot(
      `"policy.yaml:8:41 network_policies.api.endpoints[0].rules[0].allow.path: path "repos/**" does not start with "/" — rule paths are globs over the request path, e.g. "/repos/**" (or "**" for every path)"`,
    );
    expect(errorCodes(rule('{ method: GET, path: "**" }'))).toEqual([]);
  });

  test('a rule path with ".." could never match and is refused', () => {
    expect(render(rule('{ method: GET, path: "/a/../b" }'))).toMatchInlineSnapshot(
      `"policy.yaml:8:41 network_policies.api.endpoints[0].rules[0].allow.path: path "/a/../b" contains a ".." segment — requests are matched on the canonical path, where ".." is already resolved, so this rule could never match"`,
    );
    expect(errorCodes(rule('{ method: GET, path: "/a/..b" }'))).toEqual([]);
  });

  test('a query value must be a glob or {any: [globs]}', () => {
    expect(
      render(
        rule('{ method: GET, path: /x, query: { page: 5, sort: { any: [] }, q: { all: [a] } } }'),
      ),
    ).toMatchInlineSnapshot(`
        "policy.yaml:8:60 network_policies.api.endpoints[0].rules[0].allow.query.page: expected a glob string or {any: [globs]}, got an integer (5)
        policy.yaml:8:76 network_policies.api.endpoints[0].rules[0].allow.query.sort.any: "{any: []}" can never match — list at least one glob
        policy.yaml:8:82 network_policies.api.endpoints[0].rules[0].allow.query.q.any: missing required key "any" — write "{any: [glob1, glob2]}"
        policy.yaml:8:87 network_policies.api.endpoints[0].rules[0].allow.query.q.all: unknown key "all" — did you mean "any"?"
      `);
    expect(
      errorCodes(
        rule('{ method: GET, path: /x, query: { page: "*", sort: { any: [asc, desc] } } }'),
      ),
    ).toEqual([]);
  });

  test('a matcher without method or path is refused', () => {
    expect(render(rule('{ path: /x }'))).toMatchInlineSnapshot(
      `"policy.yaml:8:13 network_policies.api.endpoints[0].rules[0].allow.method: missing required key "method" — add the HTTP method, e.g. "method: GET" (or "*" for any)"`,
    );
  });

  test.for([
    ['{ method: "*", path: /x }', undefined],
    ['{ method: PROPFIND, path: /x }', undefined],
    ['{ method: "G*", path: /x }', 'ERR_POLICY_METHOD'],
    ['{ method: "", path: /x }', 'ERR_POLICY_METHOD'],
    ['{ method: GET, path: "/a b" }', 'ERR_POLICY_RULE_PATH'],
    ['{ method: GET, path: "*" }', 'ERR_POLICY_RULE_PATH'],
    ['{ method: GET, path: "" }', 'ERR_POLICY_RULE_PATH'],
    ['{ method: GET, path: /x, query: { "": "*" } }', 'ERR_POLICY_QUERY'],
  ] as const)('allow %s → %s', ([allow, code]) => {
    expect(errorCodes(rule(allow))).toEqual(code === undefined ? [] : [code]);
  });
});

describe('allowed_ips', () => {
  function allowedIps(entries: string): string {
    return endpointPolicy(`host: db.internal.example.com\nport: 5432\nallowed_ips: ${entries}`);
  }

  test('an entry that is not an IP or CIDR is refused', () => {
    expect(render(allowedIps('[10.0.5.0/24, 10.0.5.0/33, db.internal]'))).toMatchInlineSnapshot(`
      "policy.yaml:7:36 network_policies.api.endpoints[0].allowed_ips[1]: "10.0.5.0/33" is not an IP address or CIDR — write e.g. "10.0.5.0/24" or "fd00::/8"
      policy.yaml:7:49 network_policies.api.endpoints[0].allowed_ips[2]: "db.internal" is not an IP address or CIDR — write e.g. "10.0.5.0/24" or "fd00::/8""
    `);
    expect(errorCodes(allowedIps('[10.0.5.0/24, "fd00::/8", 192.168.1.10]'))).toEqual([]);
  });

  test('an entry overlapping internal address space is refused', () => {
    expect(render(allowedIps('[127.0.0.0/8, 169.254.169.254]'))).toMatchInlineSnapshot(`
      "policy.yaml:7:23 network_policies.api.endpoints[0].allowed_ips[0]: "127.0.0.0/8" overlaps loopback 127.0.0.0/8 — the proxy never connects to loopback, link-local (cloud metadata), unspecified or multicast addresses; list only the private range you need, e.g. "10.0.5.0/24"
      policy.yaml:7:36 network_policies.api.endpoints[0].allowed_ips[1]: "169.254.169.254" overlaps link-local 169.254.0.0/16 — the proxy never connects to loopback, link-local (cloud metadata), unspecified or multicast addresses; list only the private range you need, e.g. "10.0.5.0/24""
    `);
    expect(errorCodes(allowedIps('[172.16.0.0/12]'))).toEqual([]);
  });

  test.for([
    ['0.0.0.0/0', 'ERR_POLICY_ALLOWED_IP_INTERNAL'],
    ['126.0.0.0/7', 'ERR_POLICY_ALLOWED_IP_INTERNAL'],
    ['0.0.0.0', 'ERR_POLICY_ALLOWED_IP_INTERNAL'],
    ['"::1"', 'ERR_POLICY_ALLOWED_IP_INTERNAL'],
    ['"::/0"', 'ERR_POLICY_ALLOWED_IP_INTERNAL'],
    ['"::"', 'ERR_POLICY_ALLOWED_IP_INTERNAL'],
    ['"fe80::/10"', 'ERR_POLICY_ALLOWED_IP_INTERNAL'],
    ['"febf::1"', 'ERR_POLICY_ALLOWED_IP_INTERNAL'],
    ['"::ffff:127.0.0.1"', 'ERR_POLICY_ALLOWED_IP_INTERNAL'],
    ['"::ffff:0:0/96"', 'ERR_POLICY_ALLOWED_IP_INTERNAL'],
    ['224.0.0.0/4', 'ERR_POLICY_ALLOWED_IP_INTERNAL'],
    ['10.0.0.0/8', undefined],
    ['128.0.0.0/8', undefined],
    ['"fec0::/10"', undefined],
    ['"::ffff:10.0.0.1"', undefined],
    ['10.0.0.0/', 'ERR_POLICY_ALLOWED_IP_INVALID'],
    ['10.0.0.0/08', 'ERR_POLICY_ALLOWED_IP_INVALID'],
    ['10.0.0.0/8/8', 'ERR_POLICY_ALLOWED_IP_INVALID'],
    ['"fd00::/129"', 'ERR_POLICY_ALLOWED_IP_INVALID'],
    ['10.0.0', 'ERR_POLICY_ALLOWED_IP_INVALID'],
  ] as const)('allowed_ips [%s] → %s', ([entry, code]) => {
    expect(errorCodes(allowedIps(`[${entry}]`))).toEqual(code === undefined ? [] : [code]);
  });
});
