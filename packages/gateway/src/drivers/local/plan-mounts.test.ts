import { describe, expect, test } from 'vitest';
import { planMounts, toBwrapMountArgs, type FsInspector, type PathKind } from './plan-mounts.js';

/** A fake filesystem: paths map to kinds; anything else is missing. */
function fakeFs(entries: Record<string, PathKind>): FsInspector {
  return {
    inspect: (path) => entries[path] ?? { kind: 'missing' },
    list: (dir) =>
      Object.keys(entries)
        .filter((path) => path !== dir && path.startsWith(dir === '/' ? '/' : `${dir}/`))
        .map((path) => path.slice(dir === '/' ? 1 : dir.length + 1))
        .filter((rest) => !rest.includes('/'))
        .sort(),
  };
}

const DIR = { kind: 'dir' } as const;
const HOST = fakeFs({
  '/usr': DIR,
  '/etc': DIR,
  '/bin': { kind: 'symlink', target: 'usr/bin' },
  '/lib': { kind: 'symlink', target: 'usr/lib' },
  '/lib64': { kind: 'symlink', target: 'usr/lib64' },
  '/opt': DIR,
  '/var': DIR,
  '/var/cache': DIR,
  '/var/cache/app': DIR,
  '/home': DIR,
  '/home/dev': DIR,
  '/home/dev/project': DIR,
  '/root': DIR,
  '/tmp': DIR,
  '/proc': DIR,
});
const NONE = { read_only: [], read_write: [] };

describe('planMounts on the host root', () => {
  test('the OS directories and merged-/usr links come first, read-only', () => {
    expect(toBwrapMountArgs(planMounts(NONE, undefined, HOST).base)).toEqual([
      '--ro-bind',
      '/usr',
      '/usr',
      '--ro-bind',
      '/etc',
      '/etc',
      '--symlink',
      'usr/bin',
      '/bin',
      '--symlink',
      'usr/lib',
      '/lib',
      '--symlink',
      'usr/lib64',
      '/lib64',
    ]);
  });

  test.for([
    ['/opt', ['--ro-bind', '/opt', '/opt']],
    [
      '/var/cache/app',
      ['--dir', '/var', '--dir', '/var/cache', '--ro-bind', '/var/cache/app', '/var/cache/app'],
    ],
    [
      '/home/dev/project',
      ['--dir', '/home/dev', '--ro-bind', '/home/dev/project', '/home/dev/project'],
    ],
  ])('read_only %s is bound read-only with 0755 parents', ([path, args]) => {
    const plan = planMounts({ read_only: [path as string], read_write: [] }, undefined, HOST);
    expect(toBwrapMountArgs(plan.extra)).toEqual(args);
  });

  test.for([
    [
      'managed by the driver',
      ['/proc', '/tmp', '/sandbox', '/dev/null', '/dev/urandom', '/etc/passwd'],
    ],
    ['already visible read-only', ['/usr', '/usr/lib', '/etc/ssl', '/lib', '/bin/sh']],
    ['missing on the host', ['/srv/none', '/opt/none']],
  ])('paths %s bind nothing extra', ([, paths]) => {
    expect(
      planMounts({ read_only: paths as string[], read_write: [] }, undefined, HOST).extra,
    ).toEqual([]);
  });

  test('read_write binds writable, and a read_only path below it is not re-bound', () => {
    const plan = planMounts(
      { read_only: ['/var/cache/app'], read_write: ['/var/cache'] },
      undefined,
      HOST,
    );
    expect(toBwrapMountArgs(plan.extra)).toEqual([
      '--dir',
      '/var',
      '--bind',
      '/var/cache',
      '/var/cache',
    ]);
  });

  test('a read_write path below a read-only OS directory becomes a writable bind', () => {
    const fs = fakeFs({ '/usr': DIR, '/etc': DIR, '/etc/app': DIR });
    expect(
      toBwrapMountArgs(
        planMounts({ read_only: [], read_write: ['/etc/app'] }, undefined, fs).extra,
      ),
    ).toEqual(['--bind', '/etc/app', '/etc/app']);
  });

  test('read_only "/" becomes its top-level entries, never `--ro-bind / /`', () => {
    const args = toBwrapMountArgs(
      planMounts({ read_only: ['/'], read_write: [] }, undefined, HOST).extra,
    );
    expect(args).not.toContain('/');
    expect(args).toEqual(expect.arrayContaining(['/opt', '/var', '/home', '/root']));
    expect(args).not.toEqual(expect.arrayContaining(['/proc']));
    expect(args).not.toEqual(expect.arrayContaining(['/tmp']));
  });

  test('read_only "/" plans each place once (the OS dirs and /bin links are in the base already)', () => {
    const plan = planMounts({ read_only: ['/'], read_write: [] }, undefined, HOST);
    const targets = [...plan.base, ...plan.extra].map((op) => op.target);
    expect(targets.filter((target) => target === '/bin')).toHaveLength(1);
    expect(targets.filter((target) => target === '/usr')).toHaveLength(1);
    expect(new Set(targets).size).toBe(targets.length);
  });
});

describe('planMounts with --from', () => {
  const ROOT = fakeFs({
    '/img': DIR,
    '/img/usr': DIR,
    '/img/etc': DIR,
    '/img/etc/passwd': { kind: 'file' },
    '/img/etc/group': { kind: 'file' },
    '/img/bin': { kind: 'symlink', target: 'usr/bin' },
    '/img/proc': DIR,
    '/img/tmp': DIR,
    '/img/sandbox': DIR,
  });

  test('the top level of the directory replaces the host OS; managed names are skipped', () => {
    expect(toBwrapMountArgs(planMounts(NONE, '/img', ROOT).base)).toEqual([
      '--symlink',
      'usr/bin',
      '/bin',
      '--ro-bind',
      '/img/etc',
      '/etc',
      '--ro-bind',
      '/img/usr',
      '/usr',
    ]);
  });

  test.for([
    ['not a directory', fakeFs({})],
    [
      'etc without passwd',
      fakeFs({ '/img': DIR, '/img/etc': DIR, '/img/etc/group': { kind: 'file' } }),
    ],
  ])('a root that is %s is refused', ([, fs]) => {
    expect(() => planMounts(NONE, '/img', fs as FsInspector)).toThrow(
      expect.objectContaining({ code: 'ERR_INPUT_UNREADABLE' }),
    );
  });
});
