import { compilePolicy, parsePolicy, type CompiledPolicy } from '@openshell/policy-schema';
import { describe, expect, test } from 'vitest';
import { buildCheckAnswer } from './build-check-answer.js';
import type { CheckQuery } from './parse-check-query.js';

const POLICY = `
version: 1
network_policies:
  github:
    name: github-api
    endpoints:
      - host: api.github.com
        port: 443
        protocol: rest
        access: read-only
        deny_rules:
          - { method: GET, path: "/admin/**" }
      - { host: downloads.example.com, port: 443 }
      - { host: 10.1.2.3, port: 8080, allowed_ips: [10.1.2.0/24] }
      - { host: 10.9.9.9, port: 8080 }
    binaries:
      - path: /usr/bin/curl
  audited:
    name: audited
    endpoints:
      - { host: audit.example.com, port: 443, protocol: rest, enforcement: audit, access: read-only }
    binaries:
      - path: /usr/bin/curl
`;

function compiled(): CompiledPolicy {
  const parsed = parsePolicy(POLICY, { file: 'policy.yaml' });
  if (!parsed.policy) throw new Error(JSON.stringify(parsed.diagnostics));
  return compilePolicy(parsed.policy);
}
const policy = compiled();
const CURL = { pid: 10, exe: '/usr/bin/curl', ancestors: ['/usr/bin/bash'] };
const OTHER = { pid: 11, exe: '/usr/bin/wget', ancestors: ['/usr/bin/bash'] };
const UNDER_CURL = { pid: 12, exe: '/usr/bin/wget', ancestors: ['/usr/bin/curl'] };

const query = (over: Partial<CheckQuery>): CheckQuery => ({
  host: 'api.github.com',
  port: 443,
  method: 'GET',
  target: '/repos/o/r',
  binary: null,
  ...over,
});

describe('buildCheckAnswer', () => {
  test.for([
    ['L7 GET allowed by read-only', {}, CURL, 'allow', 'l7', '/repos/o/r'],
    ['L7 POST denied beside it', { method: 'POST' }, CURL, 'deny', 'l7', '/repos/o/r'],
    ['deny rule', { target: '/admin/users' }, CURL, 'deny', 'l7', '/admin/users'],
    [
      '.. canonicalised into the deny rule',
      { target: '/a/../admin/x' },
      CURL,
      'deny',
      'l7',
      '/admin/x',
    ],
    ['query is not part of the path', { target: '/repos?x=1' }, CURL, 'allow', 'l7', '/repos'],
    [
      'L4-only endpoint',
      { host: 'downloads.example.com', method: 'POST' },
      CURL,
      'allow',
      'l4',
      '/repos/o/r',
    ],
    ['unlisted host', { host: 'evil.example.org' }, CURL, 'deny', 'l4', '/repos/o/r'],
    ['unlisted port', { port: 8443 }, CURL, 'deny', 'l4', '/repos/o/r'],
    ['binary not listed', {}, OTHER, 'deny', 'l4', '/repos/o/r'],
    ['listed ancestor counts, as for real requests', {}, UNDER_CURL, 'allow', 'l7', '/repos/o/r'],
    ['binary= listed', { binary: '/usr/bin/curl' }, OTHER, 'allow', 'l7', '/repos/o/r'],
    [
      'binary= unlisted (no ancestors borrowed)',
      { binary: '/usr/bin/wget' },
      CURL,
      'deny',
      'l4',
      '/repos/o/r',
    ],
    [
      'audit endpoint',
      { host: 'audit.example.com', method: 'POST' },
      CURL,
      'audit',
      'l7',
      '/repos/o/r',
    ],
    [
      'private IP in allowed_ips',
      { host: '10.1.2.3', port: 8080 },
      CURL,
      'allow',
      'l4',
      '/repos/o/r',
    ],
    [
      'private IP outside allowed_ips',
      { host: '10.9.9.9', port: 8080 },
      CURL,
      'deny',
      'l4',
      '/repos/o/r',
    ],
    [
      'loopback (no policy can list it)',
      { host: '127.0.0.1', port: 9000 },
      CURL,
      'deny',
      'l4',
      '/repos/o/r',
    ],
  ] as const)('%s → %s', ([, over, caller, action, layer, path]) => {
    const asked = query(over);
    const { answer, decision } = buildCheckAnswer(policy, asked, caller);
    expect(answer).toMatchObject({ action, layer, path, method: asked.method });
    expect(decision.action).toBe(action);
    expect(answer.binary).toBe(asked.binary ?? caller.exe);
    expect(answer.binary_source).toBe(asked.binary === null ? 'caller' : 'query');
  });

  test('names the deciding policy and rule', () => {
    const allowed = buildCheckAnswer(policy, query({}), CURL).answer;
    expect(allowed).toMatchObject({
      policy: 'github',
      policy_name: 'github-api',
      matched_binary: '/usr/bin/curl',
    });
    expect(allowed.rule).toMatch(/^GET /);
    const denied = buildCheckAnswer(policy, query({ target: '/admin/users' }), CURL).answer;
    expect(denied).toMatchObject({ policy: 'github', rule: 'GET /admin/**' });
    const ssrf = buildCheckAnswer(policy, query({ host: '10.9.9.9', port: 8080 }), CURL).answer;
    expect(ssrf.reason).toMatch(/private .*allowed_ips.*SSRF/);
  });
});
