// Starts the battery's sandboxes the way the gateway will: local driver + startSandboxRuntime
// (real agent in gateway mode over TLS, real launcher) + the test supervisor; and undoes it.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { DEFAULT_POLICY } from '@openshell/policy-schema';
import { join } from 'node:path';
import type { SandboxLimits } from '../../src/drivers/compute-driver.js';
import {
  createDriverFixture,
  type DriverFixture,
} from '../../src/drivers/local/test-helpers/driver-fixture.js';
import {
  listenCounting,
  pickPort,
  type CountingServer,
} from '../../src/drivers/local/test-helpers/net-probes.js';
import {
  planFirstContact,
  startSandboxRuntime,
  type SandboxRuntime,
} from '../../src/runtime/start-sandbox-runtime.js';
import {
  AGENT_ENTRY,
  WORKSPACE_ROOT,
  addServiceAddress,
  assertRuntimeBuilt,
  buildProbe,
  makeScratch,
  makeServiceTls,
} from './battery-host.js';
import { startTestSupervisor, type TestSupervisor } from './test-supervisor.js';

/** Where the probe lives inside every sandbox: the workspace is in every policy's Landlock set. */
export const PROBE = '/sandbox/.battery/probe';

export interface BatteryWorld {
  readonly fixture: DriverFixture;
  readonly supervisor: TestSupervisor;
  /** Stand-in for the egress proxy: counts accepted connections. */
  readonly proxy: CountingServer;
  readonly serviceAddress: string;
  readonly runtimes: Map<string, SandboxRuntime>;
  /** Each sandbox's token, so tests can show it never leaks into the sandbox's view. */
  readonly tokens: Map<string, string>;
  /** Creates a sandbox through the runtime and waits until its agent acknowledged policy v1. */
  start(id: string, limits?: SandboxLimits): Promise<SandboxRuntime>;
  /** Deletes every sandbox and undoes every host change (idempotent). */
  teardown(): Promise<void>;
}

export interface BatteryNames {
  readonly prefix: string;
  readonly pool: string;
  readonly uidBase: number;
  /** Host loopback address outside the pool for the supervisor and the proxy stand-in. */
  readonly serviceAddress: string;
}

/** Builds the host side of the battery (see battery-host.ts for each piece). */
export async function createBatteryWorld(names: BatteryNames): Promise<BatteryWorld> {
  assertRuntimeBuilt();
  const undo: Array<() => Promise<void>> = [];
  const scratch = await makeScratch();
  undo.push(() => rm(scratch, { recursive: true, force: true }));
  try {
    const probe = await buildProbe(scratch);
    undo.unshift(await addServiceAddress(names.serviceAddress));
    const tls = await makeServiceTls(join(scratch, 'tls'), names.serviceAddress);
    const supervisor = await startTestSupervisor({ address: names.serviceAddress, tls });
    undo.unshift(() => Promise.resolve(supervisor.stop()));
    const proxy = await listenCounting(names.serviceAddress, await pickPort());
    undo.unshift(() => proxy.close());
    const fixture = await createDriverFixture(names);
    undo.unshift(() => fixture.cleanup());
    const runtimes = new Map<string, SandboxRuntime>();
    const tokens = new Map<string, string>();
    return {
      fixture,
      supervisor,
      proxy,
      serviceAddress: names.serviceAddress,
      runtimes,
      tokens,
      async start(id, limits) {
        const token = randomBytes(24).toString('hex');
        tokens.set(id, token);
        const main = ['sleep', 'infinity'];
        supervisor.register(id, token, planFirstContact(DEFAULT_POLICY, main));
        const runtime = await startSandboxRuntime({
          driver: fixture.driver,
          id,
          supervisor: {
            address: names.serviceAddress,
            port: supervisor.port,
            caDir: tls.caDir,
          },
          proxy: { address: names.serviceAddress, port: proxy.port },
          token,
          main,
          agent: { root: WORKSPACE_ROOT, entry: AGENT_ENTRY },
          ...(limits === undefined ? {} : { limits }),
        });
        runtimes.set(id, runtime);
        // Root-owned and 0755: the sandbox user may run the probe but not replace it.
        const dir = join(runtime.handle.sandboxDir, '.battery');
        await mkdir(dir, { mode: 0o755 });
        await copyFile(probe, join(dir, 'probe'));
        await supervisor.waitReady(id, 20_000).catch(async (error: unknown) => {
          const log = await readFile(runtime.handle.logFile, 'utf8').catch(() => '(no log)');
          throw new Error(`${String(error)}\nagent log:\n${log}`);
        });
        return runtime;
      },
      async teardown() {
        for (const step of undo.splice(0)) await step();
      },
    };
  } catch (error) {
    for (const step of undo.splice(0)) await step().catch(() => undefined);
    throw error;
  }
}
