import { describe, expect, test } from 'vitest';
import { probeKernel } from '../src/index.js';

describe('probeKernel', () => {
  test('reports what this kernel enforces (and what the launcher relies on)', async () => {
    const probe = await probeKernel();
    expect(['x86_64', 'aarch64']).toContain(probe.arch);
    expect(probe.kernelRelease).toMatch(/^\d+\.\d+/);
    expect(probe.seccomp, 'seccomp filters are required (CONFIG_SECCOMP_FILTER)').toBe(true);
    expect(probe.noNewPrivs).toBe(true);
    expect(
      probe.landlock.abi,
      `Landlock ABI >= 6 expected on this host: ${probe.landlock.unavailableReason ?? ''}`,
    ).toBeGreaterThanOrEqual(6);
    expect(probe.landlock.unavailableReason).toBeNull();
    expect(probe.landlock.features).toMatchObject({
      filesystem: true,
      refer: true,
      truncate: true,
      ioctlDev: true,
      scopeSignal: true,
      scopeAbstractUnixSocket: true,
    });
    // Root can always create user namespaces unless a sysctl or LSM forbids it; this host allows it.
    expect(probe.userNamespaces).toBe(true);
  });

  test('features follow the ABI number', async () => {
    const { landlock } = await probeKernel();
    expect(landlock.features.truncate).toBe(landlock.abi >= 3);
    expect(landlock.features.networkTcp).toBe(landlock.abi >= 4);
    expect(landlock.features.auditLogFlags).toBe(landlock.abi >= 7);
  });

  test('a missing launcher is ERR_ENFORCER_FAILED with a build hint', async () => {
    await expect(
      probeKernel({ launcher: '/nonexistent/openshell-launcher' }),
    ).rejects.toMatchObject({
      code: 'ERR_ENFORCER_FAILED',
      message: expect.stringContaining('pnpm --filter @openshell/native-enforcer build'),
    });
  });

  test('a launcher printing something else is refused, not half-parsed', async () => {
    await expect(probeKernel({ launcher: '/bin/true' })).rejects.toMatchObject({
      code: 'ERR_ENFORCER_FAILED',
    });
  });
});
