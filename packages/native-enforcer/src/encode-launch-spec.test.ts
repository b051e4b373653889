import { describe, expect, test } from 'vitest';
import { encodeLaunchSpec } from './encode-launch-spec.js';
import type { LaunchSpec } from './launch-spec.js';

const SPEC: LaunchSpec = {
  uid: 10001,
  gid: 10002,
  groups: [20001],
  landlock: 'best_effort',
  readOnly: ['/usr'],
  readWrite: ['/sandbox', '/dev/null'],
  argv: ['bash', '-lc', 'echo "a=b"'],
  env: { PATH: '/usr/bin', EMPTY: '', WITH_EQ: 'x=y' },
  cwd: '/sandbox',
  rlimits: { nofile: 1024 },
};

function records(buffer: Buffer): string[] {
  const text = buffer.toString('utf8');
  expect(text.endsWith('\0')).toBe(true);
  return text.slice(0, -1).split('\0');
}

describe('encodeLaunchSpec', () => {
  test('writes NUL-terminated key=value records between the magic and the end record', () => {
    expect(records(encodeLaunchSpec(SPEC))).toEqual([
      'openshell-launch-spec=1',
      'uid=10001',
      'gid=10002',
      'group=20001',
      'landlock=best_effort',
      'ro=/usr',
      'rw=/sandbox',
      'rw=/dev/null',
      'arg=bash',
      'arg=-lc',
      'arg=echo "a=b"',
      'env=PATH=/usr/bin',
      'env=EMPTY=',
      'env=WITH_EQ=x=y',
      'cwd=/sandbox',
      'rlimit_nofile=1024',
      'end=1',
    ]);
  });

  test('keeps UTF-8 values byte-exact', () => {
    const spec = { ...SPEC, env: { GREETING: 'héllo ✓' } };
    expect(encodeLaunchSpec(spec).includes(Buffer.from('env=GREETING=héllo ✓\0', 'utf8'))).toBe(
      true,
    );
  });

  test.for([
    {
      name: 'uid 0 (root)',
      change: { uid: 0 },
      code: 'ERR_POLICY_INVALID',
      message: /uid 0 \(root\) is refused/,
    },
    {
      name: 'gid 0',
      change: { gid: 0 },
      code: 'ERR_POLICY_INVALID',
      message: /gid 0 \(root\) is refused/,
    },
    {
      name: 'group 0',
      change: { groups: [0] },
      code: 'ERR_POLICY_INVALID',
      message: /supplementary group 0/,
    },
    {
      name: 'uid 4294967295',
      change: { uid: 4294967295 },
      code: 'ERR_POLICY_INVALID',
      message: /out of range/,
    },
    {
      name: 'fractional uid',
      change: { uid: 1.5 },
      code: 'ERR_POLICY_INVALID',
      message: /out of range/,
    },
    {
      name: 'relative read-only path',
      change: { readOnly: ['usr'] },
      code: 'ERR_POLICY_INVALID',
      message: /must be absolute/,
    },
    { name: 'empty argv', change: { argv: [] }, code: 'ERR_USAGE', message: /no command given/ },
    {
      name: 'empty argv[0]',
      change: { argv: [''] },
      code: 'ERR_USAGE',
      message: /no command given/,
    },
    {
      name: 'NUL in an argument',
      change: { argv: ['sh', 'a\0b'] },
      code: 'ERR_USAGE',
      message: /argv\[1\] contains a NUL/,
    },
    {
      name: 'env name with =',
      change: { env: { 'A=B': 'c' } },
      code: 'ERR_USAGE',
      message: /name "A=B" is invalid/,
    },
    {
      name: 'empty env name',
      change: { env: { '': 'c' } },
      code: 'ERR_USAGE',
      message: /name "" is invalid/,
    },
    {
      name: 'relative cwd',
      change: { cwd: 'sandbox' },
      code: 'ERR_USAGE',
      message: /must be an absolute path/,
    },
    {
      name: 'zero nofile',
      change: { rlimits: { nofile: 0 } },
      code: 'ERR_USAGE',
      message: /rlimit nofile=0/,
    },
    {
      name: 'spec over 4 MiB',
      change: { env: { BIG: 'x'.repeat(4 * 1024 * 1024) } },
      code: 'ERR_USAGE',
      message: /the limit is 4194304/,
    },
  ] as const)('refuses $name', ({ change, code, message }) => {
    const spec = { ...SPEC, ...change } as LaunchSpec;
    expect(() => encodeLaunchSpec(spec)).toThrow(
      expect.objectContaining({ code, message: expect.stringMatching(message) }),
    );
  });

  test('control: the largest valid ids encode', () => {
    const r = records(encodeLaunchSpec({ ...SPEC, uid: 4294967294, gid: 1 }));
    expect(r).toContain('uid=4294967294');
    expect(r).toContain('gid=1');
  });
});
