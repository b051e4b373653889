import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY, hashPolicy, parsePolicy, policyToYaml, type Policy } from './index.js';
import { parseValid, yaml } from './test-helpers/policy-text.js';

const RICH = yaml`
  version: 1
  filesystem_policy:
    include_workdir: false
    read_only: [/usr, /etc]
    read_write: [/tmp]
  landlock: { compatibility: hard_requirement }
  process: { run_as_user: 1000, run_as_group: "1000" }
  network_policies:
    github:
      name: GitHub API
      endpoints:
        - { host: api.github.com, port: 443, access: read-write, tls: terminate, enforcement: audit }
        - host: "*.githubusercontent.com"
          ports: [443, 8443]
          rules:
            - allow: { method: get, path: /repos/**, query: { per_page: "*", sort: { any: [asc, desc] } } }
          deny_rules:
            - { method: DELETE, path: "**" }
          allow_encoded_slash: true
          request_body_credential_rewrite: true
        - { host: db.example.com, port: 5432, tls: skip, allowed_ips: [10.0.5.0/24] }
      binaries: [{ path: /usr/bin/curl }, { path: "/**" }]
    "odd.id": { endpoints: [{ host: "2001:DB8::1", port: 443 }] }
  inference:
    default_route: local
    routes:
      local: { kind: local }
      claude: { kind: frontier, models: [claude-sonnet] }
    sensitivity:
      - { name: keys, builtin: private_keys, action: refuse }
      - { name: ids, pattern: "ACME-[0-9]+", action: keep_local }
`;

function roundTrip(policy: Policy): Policy {
  const result = parsePolicy(policyToYaml(policy));
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  if (result.policy === undefined) throw new Error('round trip failed');
  return result.policy;
}

describe('policyToYaml', () => {
  test('round-trips to an equal hash', () => {
    const policy = parseValid(RICH);
    const again = roundTrip(policy);
    expect(again).toEqual(policy);
    expect(hashPolicy(again)).toBe(hashPolicy(policy));
    expect(hashPolicy(roundTrip(DEFAULT_POLICY))).toBe(hashPolicy(DEFAULT_POLICY));
  });

  test('prints access instead of the expanded rules and leaves defaults out', () => {
    expect(policyToYaml(parseValid(RICH))).toMatchInlineSnapshot(`
      "version: 1
      filesystem_policy:
        include_workdir: false
        read_only: [/usr, /etc]
        read_write: [/tmp]
      landlock:
        compatibility: hard_requirement
      process:
        run_as_user: "1000"
        run_as_group: "1000"
      network_policies:
        github:
          name: GitHub API
          endpoints:
            - host: api.github.com
              port: 443
              protocol: rest
              enforcement: audit
              access: read-write
            - host: "*.githubusercontent.com"
              ports: [443, 8443]
              protocol: rest
              enforcement: enforce
              rules:
                - allow: {method: GET, path: /repos/**, query: {per_page: "*", sort: {any: [asc, desc]}}}
              deny_rules:
                - {method: DELETE, path: "**"}
              allow_encoded_slash: true
              request_body_credential_rewrite: true
            - host: db.example.com
              port: 5432
              tls: skip
              allowed_ips: [10.0.5.0/24]
          binaries:
            - {path: /usr/bin/curl}
            - {path: /**}
        odd.id:
          name: odd.id
          endpoints:
            - {host: 2001:db8::1, port: 443}
          binaries: []
      inference:
        default_route: local
        routes:
          local:
            kind: local
          claude:
            kind: frontier
            models: [claude-sonnet]
        sensitivity:
          - name: keys
            builtin: private_keys
            action: refuse
          - name: ids
            pattern: ACME-[0-9]+
            action: keep_local
      "
    `);
  });

  test('prints rules when a hand-built endpoint carries access beside other rules', () => {
    const policy = parseValid(RICH);
    const github = policy.network_policies['github'];
    const first = github?.endpoints[0];
    if (github === undefined || first === undefined) throw new Error('fixture');
    const handBuilt: Policy = {
      ...policy,
      network_policies: {
        github: {
          ...github,
          endpoints: [{ ...first, rules: [...first.rules, { method: 'DELETE', path: '/x' }] }],
        },
      },
    };
    const text = policyToYaml(handBuilt);
    expect(text).not.toContain('access:');
    expect(text).toContain('{method: DELETE, path: /x}');
  });
});
