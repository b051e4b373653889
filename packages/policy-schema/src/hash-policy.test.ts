import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY, canonicalPolicyJson, hashPolicy } from './index.js';
import { parseValid, yaml } from './test-helpers/policy-text.js';

const POLICY = yaml`
  version: 1
  process: { run_as_user: sandbox, run_as_group: sandbox }
  network_policies:
    github:
      name: github
      endpoints:
        - { host: api.github.com, port: 443, access: read-only }
      binaries: [{ path: /usr/bin/curl }, { path: /usr/bin/git }]
    npm:
      endpoints: [{ host: registry.example.com, port: 443 }]
      binaries: [{ path: /usr/bin/node }]
`;

describe('hashPolicy', () => {
  test('is 64 hex digits and stable', () => {
    const hash = hashPolicy(parseValid(POLICY));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashPolicy(parseValid(POLICY))).toBe(hash);
  });

  test('reordered map keys hash equal', () => {
    const reordered = yaml`
      network_policies:
        npm:
          binaries: [{ path: /usr/bin/node }]
          endpoints: [{ port: 443, host: registry.example.com }]
        github:
          binaries: [{ path: /usr/bin/curl }, { path: /usr/bin/git }]
          endpoints:
            - { access: read-only, port: 443, host: api.github.com }
          name: github
      process: { run_as_group: sandbox, run_as_user: sandbox }
      version: 1
    `;
    expect(hashPolicy(parseValid(reordered))).toBe(hashPolicy(parseValid(POLICY)));
  });

  test('a reordered list hashes differently', () => {
    const swapped = POLICY.replace(
      '[{ path: /usr/bin/curl }, { path: /usr/bin/git }]',
      '[{ path: /usr/bin/git }, { path: /usr/bin/curl }]',
    );
    expect(swapped).not.toBe(POLICY);
    expect(hashPolicy(parseValid(swapped))).not.toBe(hashPolicy(parseValid(POLICY)));
  });

  test('any value change hashes differently', () => {
    const changed = POLICY.replace('read-only', 'read-write');
    expect(hashPolicy(parseValid(changed))).not.toBe(hashPolicy(parseValid(POLICY)));
  });

  test('the canonical JSON sorts keys at every level and keeps list order', () => {
    expect(canonicalPolicyJson(DEFAULT_POLICY)).toBe(
      '{"filesystem_policy":{"include_workdir":true,"read_only":["/usr","/lib","/etc","/proc","/dev/urandom"],' +
        '"read_write":["/sandbox","/tmp","/dev/null"]},"landlock":{"compatibility":"best_effort"},' +
        '"network_policies":{},"process":{"run_as_group":"sandbox","run_as_user":"sandbox"},"version":1}',
    );
  });
});
