import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY, diffNetworkPolicies, diffStatic, type Policy } from './index.js';
import { parseValid, yaml } from './test-helpers/policy-text.js';

function withStatic(extra: string): Policy {
  return parseValid(`version: 1\n${extra}`);
}

describe('diffStatic', () => {
  test('identical static sections produce no change, whatever the network section does', () => {
    const next = withStatic(
      'network_policies:\n  a: { endpoints: [{ host: a.example.com, port: 443 }] }\n',
    );
    expect(diffStatic(DEFAULT_POLICY, next)).toEqual([]);
  });

  test('removing and adding filesystem paths are both named', () => {
    const next = withStatic(
      'filesystem_policy:\n  read_only: [/usr, /lib, /proc, /dev/urandom, /opt]\n  read_write: [/sandbox, /tmp, /dev/null]\n',
    );
    expect(diffStatic(DEFAULT_POLICY, next)).toEqual([
      {
        section: 'filesystem_policy',
        path: 'filesystem_policy.read_only',
        message:
          'filesystem_policy.read_only: removed "/etc" — filesystem_policy cannot be changed on a live sandbox (applied at creation); recreate the sandbox',
      },
      {
        section: 'filesystem_policy',
        path: 'filesystem_policy.read_only',
        message:
          'filesystem_policy.read_only: added "/opt" — filesystem_policy cannot be changed on a live sandbox (applied at creation); recreate the sandbox',
      },
    ]);
  });

  test('include_workdir, reordered paths, landlock and process changes are named', () => {
    const next = withStatic(yaml`
      filesystem_policy:
        include_workdir: false
        read_only: [/usr, /lib, /etc, /proc, /dev/urandom]
        read_write: [/tmp, /sandbox, /dev/null]
      landlock: { compatibility: hard_requirement }
      process: { run_as_user: 1000 }
    `);
    expect(diffStatic(DEFAULT_POLICY, next).map((change) => change.message)).toEqual([
      'filesystem_policy.include_workdir: true → false — filesystem_policy cannot be changed on a live sandbox (applied at creation); recreate the sandbox',
      'filesystem_policy.read_write: order changed — filesystem_policy cannot be changed on a live sandbox (applied at creation); recreate the sandbox',
      'landlock.compatibility: "best_effort" → "hard_requirement" — landlock policy cannot be changed on a live sandbox (applied at creation); recreate the sandbox',
      'process.run_as_user: "sandbox" → "1000" — process policy cannot be changed on a live sandbox (applied at creation); recreate the sandbox',
    ]);
  });
});

describe('diffNetworkPolicies', () => {
  const base = yaml`
    version: 1
    network_policies:
      keep: { endpoints: [{ host: k.example.com, port: 443 }] }
      change: { endpoints: [{ host: c.example.com, port: 443 }] }
      drop: { endpoints: [{ host: d.example.com, port: 443 }] }
  `;

  test('reports added, removed and changed ids, sorted', () => {
    const next = yaml`
      version: 1
      network_policies:
        keep: { endpoints: [{ host: k.example.com, port: 443 }] }
        change: { endpoints: [{ host: c.example.com, port: 8443 }] }
        zeta: { endpoints: [{ host: z.example.com, port: 443 }] }
        alpha: { endpoints: [{ host: a.example.com, port: 443 }] }
    `;
    expect(diffNetworkPolicies(parseValid(base), parseValid(next))).toEqual({
      added: ['alpha', 'zeta'],
      removed: ['drop'],
      changed: ['change'],
    });
  });

  test('reordered keys are not a change', () => {
    const reordered = base.replace(
      '{ host: k.example.com, port: 443 }',
      '{ port: 443, host: k.example.com }',
    );
    expect(diffNetworkPolicies(parseValid(base), parseValid(reordered))).toEqual({
      added: [],
      removed: [],
      changed: [],
    });
  });
});
