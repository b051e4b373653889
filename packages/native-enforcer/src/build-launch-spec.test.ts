import type { Policy } from '@openshell/policy-schema';
import { describe, expect, test } from 'vitest';
import {
  BASELINE_READ_ONLY,
  BASELINE_READ_WRITE,
  buildLaunchSpec,
  resolveProcessIdentity,
  SANDBOX_GID,
  SANDBOX_UID,
} from './build-launch-spec.js';

function policy(overrides: Partial<Policy> = {}): Policy {
  return {
    version: 1,
    filesystem_policy: {
      include_workdir: true,
      read_only: ['/usr', '/etc', '/dev/urandom'],
      read_write: ['/tmp', '/dev/null'],
    },
    landlock: { compatibility: 'best_effort' },
    process: { run_as_user: 'sandbox', run_as_group: 'sandbox' },
    network_policies: {},
    ...overrides,
  };
}

const COMMAND = { argv: ['claude'], env: { HOME: '/sandbox' }, cwd: '/sandbox' };

describe('resolveProcessIdentity', () => {
  test.for([
    { user: 'sandbox', group: 'sandbox', expected: { uid: SANDBOX_UID, gid: SANDBOX_GID } },
    { user: '2000', group: '3000', expected: { uid: 2000, gid: 3000 } },
    { user: 'sandbox', group: '4294967294', expected: { uid: SANDBOX_UID, gid: 4294967294 } },
  ])('$user:$group → $expected.uid:$expected.gid', ({ user, group, expected }) => {
    expect(resolveProcessIdentity({ run_as_user: user, run_as_group: group })).toEqual(expected);
  });

  test('a driver-chosen sandbox uid replaces the default', () => {
    expect(
      resolveProcessIdentity(
        { run_as_user: 'sandbox', run_as_group: 'sandbox' },
        { sandboxUid: 70001, sandboxGid: 70002 },
      ),
    ).toEqual({
      uid: 70001,
      gid: 70002,
    });
  });

  test.for([
    { user: 'root', group: 'sandbox', path: 'process.run_as_user' },
    { user: '0', group: 'sandbox', path: 'process.run_as_user' },
    { user: 'sandbox', group: '0', path: 'process.run_as_group' },
    { user: 'sandbox', group: 'root', path: 'process.run_as_group' },
    { user: 'alice', group: 'sandbox', path: 'process.run_as_user' },
    { user: '4294967295', group: 'sandbox', path: 'process.run_as_user' },
    { user: '007', group: 'sandbox', path: 'process.run_as_user' },
  ])('refuses $user:$group', ({ user, group, path }) => {
    expect(() => resolveProcessIdentity({ run_as_user: user, run_as_group: group })).toThrow(
      expect.objectContaining({
        code: 'ERR_POLICY_INVALID',
        details: expect.objectContaining({ path }),
      }),
    );
  });
});

describe('buildLaunchSpec', () => {
  test('maps the static sections and adds the workdir and baseline devices once each', () => {
    const spec = buildLaunchSpec(policy(), { ...COMMAND, uid: SANDBOX_UID, gid: SANDBOX_GID });
    expect(spec).toEqual({
      uid: 10001,
      gid: 10001,
      groups: [],
      landlock: 'best_effort',
      readOnly: ['/usr', '/etc', '/dev/urandom', '/dev/random'],
      readWrite: ['/tmp', '/dev/null', '/sandbox', '/dev/zero', '/dev/tty'],
      argv: ['claude'],
      env: { HOME: '/sandbox' },
      cwd: '/sandbox',
      rlimits: {},
    });
    for (const path of BASELINE_READ_ONLY) expect(spec.readOnly).toContain(path);
    for (const path of BASELINE_READ_WRITE) expect(spec.readWrite).toContain(path);
  });

  test('hard_requirement, a custom workdir, extra paths and limits pass through', () => {
    const spec = buildLaunchSpec(policy({ landlock: { compatibility: 'hard_requirement' } }), {
      ...COMMAND,
      uid: SANDBOX_UID,
      gid: SANDBOX_GID,
      groups: [20001],
      workdir: '/work',
      extraReadOnly: ['/run/openshell/ca.pem'],
      extraReadWrite: ['/var/cache/agent'],
      rlimits: { nproc: 512 },
    });
    expect(spec.landlock).toBe('hard_requirement');
    expect(spec.groups).toEqual([20001]);
    expect(spec.readOnly).toContain('/run/openshell/ca.pem');
    expect(spec.readWrite).toEqual(expect.arrayContaining(['/work', '/var/cache/agent']));
    expect(spec.readWrite).not.toContain('/sandbox');
    expect(spec.rlimits).toEqual({ nproc: 512 });
  });

  test('include_workdir: false adds no workdir', () => {
    const spec = buildLaunchSpec(
      policy({ filesystem_policy: { include_workdir: false, read_only: [], read_write: [] } }),
      { ...COMMAND, uid: SANDBOX_UID, gid: SANDBOX_GID },
    );
    expect(spec.readWrite).toEqual([...BASELINE_READ_WRITE]);
  });

  test('refuses a root identity in the policy', () => {
    expect(() =>
      buildLaunchSpec(policy({ process: { run_as_user: 'root', run_as_group: 'sandbox' } }), {
        ...COMMAND,
        uid: 0,
        gid: SANDBOX_GID,
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_POLICY_INVALID' }));
  });

  test('refuses a caller-resolved uid that contradicts a numeric run_as_user', () => {
    expect(() =>
      buildLaunchSpec(policy({ process: { run_as_user: '2000', run_as_group: '2000' } }), {
        ...COMMAND,
        uid: 10001,
        gid: 2000,
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INTERNAL' }));
  });

  test('control: the matching numeric identity is accepted', () => {
    const spec = buildLaunchSpec(
      policy({ process: { run_as_user: '2000', run_as_group: '2000' } }),
      { ...COMMAND, uid: 2000, gid: 2000 },
    );
    expect([spec.uid, spec.gid]).toEqual([2000, 2000]);
  });
});
