import { mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ComputeDriver, SandboxSpec } from '../../compute-driver.js';
import { createLocalDriver } from '../create-local-driver.js';
import type { LocalDriverOptions } from '../local-driver-options.js';

/** Per-test-file isolation: test files run in parallel, so each gets its own names. */
export interface FixtureNames {
  /** 1–4 letters; also names the cgroup parent `openshell-test-<prefix>`. */
  readonly prefix: string;
  /** A /24 of its own (63 sandboxes). */
  readonly pool: string;
  readonly uidBase: number;
}

export interface DriverFixture {
  readonly driver: ComputeDriver;
  readonly options: LocalDriverOptions & {
    readonly cgroupParent: string;
    readonly namePrefix: string;
  };
  readonly uidRange: readonly [number, number];
  /** Deletes every sandbox of this fixture and removes its state dir and cgroup parents. */
  cleanup(): Promise<void>;
}

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** A local driver on a fresh temp state dir with this test file's own pool, uids and names. */
export async function createDriverFixture(names: FixtureNames): Promise<DriverFixture> {
  const stateDir = await mkdtemp(`/var/tmp/openshell-test-${names.prefix}-`);
  const options = {
    stateDir,
    addressPool: names.pool,
    uidBase: names.uidBase,
    namePrefix: names.prefix,
    cgroupParent: `openshell-test-${names.prefix}`,
  };
  const driver = await createLocalDriver(options);
  return {
    driver,
    options,
    uidRange: [names.uidBase, names.uidBase + 64],
    async cleanup() {
      for (const sandbox of await driver.list()) await driver.delete(sandbox.id);
      await rm(stateDir, { recursive: true, force: true });
      for (const hierarchy of await readdir(CGROUP_ROOT)) {
        await rmdir(join(CGROUP_ROOT, hierarchy, options.cgroupParent)).catch(() => undefined);
      }
    },
  };
}

/** A spec with the default policy's filesystem section and a long-running agent. */
export function makeSpec(id: string, overrides: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    id,
    filesystem: {
      include_workdir: true,
      read_only: ['/usr', '/lib', '/etc', '/proc', '/dev/urandom'],
      read_write: ['/sandbox', '/tmp', '/dev/null'],
    },
    proxy: { port: 3128 },
    command: ['/bin/sleep', 'infinity'],
    ...overrides,
  };
}
