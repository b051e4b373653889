import { describe, expect, test } from 'vitest';
import type { KernelProbe } from '@openshell/native-enforcer';
import { checkHost, type CheckHostDeps } from './check-host.js';

const FULL_KERNEL: KernelProbe = {
  arch: 'x86_64',
  kernelRelease: '6.18.0',
  landlock: {
    abi: 7,
    unavailableReason: null,
    features: {
      filesystem: true,
      refer: true,
      truncate: true,
      networkTcp: true,
      ioctlDev: true,
      scopeAbstractUnixSocket: true,
      scopeSignal: true,
      auditLogFlags: true,
    },
  },
  seccomp: true,
  userNamespaces: true,
  noNewPrivs: true,
};

const healthy: CheckHostDeps = {
  probeKernel: () => Promise.resolve(FULL_KERNEL),
  runCommand: (argv) => Promise.resolve({ code: 0, stdout: `${argv[0]} 1.0\n`, stderr: '' }),
  detectCgroupLayout: () =>
    Promise.resolve({
      controllers: {
        memory: { version: 1, mount: '/sys/fs/cgroup/memory' },
        pids: { version: 1, mount: '/sys/fs/cgroup/pids' },
        cpu: { version: 2, mount: '/sys/fs/cgroup' },
      },
    }),
  uid: () => 0,
  nodeVersion: '20.20.2',
};

describe('checkHost with injected host facts', () => {
  test('a complete host is ready with every check ok', async () => {
    const report = await checkHost(healthy);
    expect(report.ready).toBe(true);
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual([
      'root',
      'node',
      'bubblewrap',
      'nftables',
      'iproute2',
      'nsenter',
      'landlock',
      'seccomp',
      'no_new_privs',
      'kernel',
      'cgroup memory',
      'cgroup pids',
      'cgroup cpu',
    ]);
  });

  test.for([
    ['bwrap', 'bubblewrap', 'apt-get install bubblewrap'],
    ['nft', 'nftables', 'apt-get install nftables'],
    ['ip', 'iproute2', 'apt-get install iproute2'],
  ] as const)('missing %s → not ready, fix names the package', async ([bin, name, fix]) => {
    const report = await checkHost({
      ...healthy,
      runCommand: (argv) =>
        argv[0] === bin
          ? Promise.reject(new Error(`cannot run ${bin}: ENOENT`))
          : healthy.runCommand(argv),
    });
    expect(report.ready).toBe(false);
    expect(report.checks.find((c) => c.name === name)).toMatchObject({ status: 'missing', fix });
  });

  test('no Landlock is missing (not ready) with the kernel option to enable', async () => {
    const report = await checkHost({
      ...healthy,
      probeKernel: () =>
        Promise.resolve({
          ...FULL_KERNEL,
          landlock: { ...FULL_KERNEL.landlock, abi: 0, unavailableReason: 'disabled at boot' },
        }),
    });
    expect(report.ready).toBe(false);
    const landlock = report.checks.find((c) => c.name === 'landlock');
    expect(landlock).toMatchObject({ status: 'missing' });
    expect(landlock?.detail).toContain('disabled at boot');
    expect(landlock?.fix).toContain('CONFIG_SECURITY_LANDLOCK');
  });

  test('Landlock ABI 4 is a warning: usable, but without scoping', async () => {
    const report = await checkHost({
      ...healthy,
      probeKernel: () =>
        Promise.resolve({ ...FULL_KERNEL, landlock: { ...FULL_KERNEL.landlock, abi: 4 } }),
    });
    expect(report.ready).toBe(true);
    expect(report.checks.find((c) => c.name === 'landlock')).toMatchObject({ status: 'warn' });
  });

  test('no seccomp, not root, old node and a broken launcher are each reported', async () => {
    const report = await checkHost({
      ...healthy,
      uid: () => 1000,
      nodeVersion: '20.10.0',
      probeKernel: () => Promise.reject(new Error('ENOENT openshell-launcher')),
    });
    expect(report.ready).toBe(false);
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
    expect(byName).toMatchObject({ root: 'missing', node: 'missing', launcher: 'missing' });
    expect(report.kernel).toBeNull();
    const noSeccomp = await checkHost({
      ...healthy,
      probeKernel: () => Promise.resolve({ ...FULL_KERNEL, seccomp: false }),
    });
    expect(noSeccomp.checks.find((c) => c.name === 'seccomp')).toMatchObject({
      status: 'missing',
      fix: 'boot a kernel with CONFIG_SECCOMP_FILTER=y',
    });
  });

  test('a missing cgroup controller is a warning naming the limit', async () => {
    const report = await checkHost({
      ...healthy,
      detectCgroupLayout: () => Promise.resolve({ controllers: {} }),
    });
    expect(report.ready).toBe(true);
    expect(report.checks.find((c) => c.name === 'cgroup memory')).toMatchObject({
      status: 'warn',
      detail: 'no memory controller: sandbox memory limits cannot be applied',
    });
  });
});

// This machine and CI must be able to enforce everything: a missing feature fails here
// with the check's own message instead of letting the enforcement suites skip.
test('this host can enforce every domain (real probe)', async () => {
  const report = await checkHost();
  const problems = report.checks
    .filter((c) => c.status !== 'ok')
    .map((c) => `${c.name}: ${c.detail}${c.fix === undefined ? '' : ` — fix: ${c.fix}`}`);
  expect(problems).toEqual([]);
  expect(report.ready).toBe(true);
  expect(report.kernel?.landlock.abi).toBeGreaterThanOrEqual(6);
});
