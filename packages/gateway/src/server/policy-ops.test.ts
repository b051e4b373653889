import { DEFAULT_POLICY, parsePolicy, type Policy } from '@openshell/policy-schema';
import type { PolicyOperation } from '@openshell/proto';
import { describe, expect, test } from 'vitest';
import { applyPolicyOperations, derivePolicyId } from './policy-ops.js';

const BASE = parsePolicy(`version: 1
network_policies:
  github:
    name: github
    endpoints:
      - { host: api.github.com, port: 443, access: read-only }
    binaries:
      - path: /usr/bin/curl
`).policy as Policy;

function apply(policy: Policy, ops: PolicyOperation['op'][]): Policy {
  const text = applyPolicyOperations(
    policy,
    ops.map((op) => ({ op })),
  );
  const parsed = parsePolicy(text);
  if (parsed.policy === undefined) throw new Error(JSON.stringify(parsed.diagnostics));
  return parsed.policy;
}

describe('applyPolicyOperations', () => {
  test('add-endpoint creates a policy named after host and port, with its binaries', () => {
    const next = apply(DEFAULT_POLICY, [
      {
        $case: 'addEndpoint',
        value: { host: 'example.com', port: 443, access: 'read-only', binaries: ['/usr/bin/curl'] },
      },
    ]);
    expect(Object.keys(next.network_policies)).toEqual(['example_com_443']);
    expect(next.network_policies['example_com_443']?.binaries).toEqual([{ path: '/usr/bin/curl' }]);
  });

  test('add-endpoint for a new policy without --binary is refused (an empty list matches nothing)', () => {
    expect(() =>
      applyPolicyOperations(DEFAULT_POLICY, [
        { op: { $case: 'addEndpoint', value: { host: 'example.com', port: 443, binaries: [] } } },
      ]),
    ).toThrow(/needs --binary/);
  });

  test('add-endpoint into an existing policy appends the endpoint and unions binaries', () => {
    const next = apply(BASE, [
      {
        $case: 'addEndpoint',
        value: {
          host: 'uploads.github.com',
          port: 443,
          binaries: ['/usr/bin/git', '/usr/bin/curl'],
          policy: 'github',
        },
      },
    ]);
    const github = next.network_policies['github'];
    expect(github?.endpoints.map((e) => e.host)).toEqual(['api.github.com', 'uploads.github.com']);
    expect(github?.binaries.map((b) => b.path)).toEqual(['/usr/bin/curl', '/usr/bin/git']);
  });

  test('remove-endpoint drops a policy left without endpoints; unknown endpoint is refused', () => {
    const next = apply(BASE, [
      { $case: 'removeEndpoint', value: { host: 'api.github.com', port: 443 } },
    ]);
    expect(next.network_policies).toEqual({});
    expect(() =>
      applyPolicyOperations(BASE, [
        { op: { $case: 'removeEndpoint', value: { host: 'x.example', port: 443 } } },
      ]),
    ).toThrow(/no such endpoint/);
  });

  test('add-allow turns an access preset into rules and adds the new one', () => {
    const next = apply(BASE, [
      {
        $case: 'addAllow',
        value: { host: 'api.github.com', port: 443, method: 'POST', path: '/repos/*/issues' },
      },
    ]);
    const endpoint = next.network_policies['github']?.endpoints[0];
    const text = JSON.stringify(endpoint);
    expect(text).toContain('/repos/*/issues');
    expect(text).toContain('"GET"');
  });

  test('add-deny adds a deny rule beside the preset; unknown endpoint is refused', () => {
    const next = apply(BASE, [
      {
        $case: 'addDeny',
        value: { host: 'api.github.com', port: 443, method: 'GET', path: '/admin/**' },
      },
    ]);
    expect(JSON.stringify(next.network_policies['github'])).toContain('/admin/**');
    expect(() =>
      applyPolicyOperations(BASE, [
        {
          op: {
            $case: 'addDeny',
            value: { host: 'nope.example', port: 443, method: 'GET', path: '/' },
          },
        },
      ]),
    ).toThrow(/add it first with --add-endpoint/);
  });

  test.for([
    ['api.github.com', 443, 'api_github_com_443'],
    ['*.Example.COM', 8443, 'example_com_8443'],
  ] as const)('derivePolicyId(%s, %i) = %s', ([host, port, id]) => {
    expect(derivePolicyId(host, port)).toBe(id);
  });
});
