import { rm } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { OpenShellError } from '@openshell/policy-schema';
import { destroySandboxCgroups, existsPath } from './cgroups.js';
import type { LeaseStore } from './lease-store.js';
import type { ResolvedLocalDriverOptions } from './local-driver-options.js';
import { planNetworkTeardown } from './plan-network.js';
import { runCommand } from './run-command.js';
import { isSameProcess, sandboxPaths, type SandboxRecord } from './sandbox-state.js';

export interface TeardownContext {
  readonly options: ResolvedLocalDriverOptions;
  readonly leases: LeaseStore;
}

/**
 * Frees everything a sandbox holds, in dependency order: processes (they pin the netns
 * and the cgroups), cgroups, network, lease, files. Safe on a half-created sandbox and
 * safe to repeat: each step treats "already gone" as done, and the last one checks.
 */
export async function teardownSandbox(
  context: TeardownContext,
  record: SandboxRecord,
  child: ChildProcess | undefined,
  keepSandboxDir: boolean,
): Promise<void> {
  const { options, leases } = context;
  const paths = sandboxPaths(options.stateDir, record.id);

  // The pid-namespace init dying takes every process in the namespace with it (also ones
  // that left the cgroup, which they cannot do without CAP_SYS_ADMIN anyway).
  if (await isSameProcess(record.pid, record.pidStartTime)) {
    if (record.initPid !== undefined) killQuietly(record.initPid);
    if (record.pid !== undefined) killQuietly(record.pid);
  }
  await destroySandboxCgroups(record.cgroups);
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    await once(child, 'exit'); // Reap it now, so no zombie outlives the deletion.
  }

  const { namespace, hostInterface } = record.network;
  const netnsPath = `/run/netns/${namespace}`;
  if ((await existsPath(netnsPath)) || (await existsPath(`/sys/class/net/${hostInterface}`))) {
    await runCommand([options.tools.ip, '-force', '-b', '-'], planNetworkTeardown(record.network));
  }
  const leftovers = [netnsPath, `/sys/class/net/${hostInterface}`];
  for (const path of leftovers) {
    if (await existsPath(path)) {
      throw new OpenShellError(
        'ERR_COMPUTE_DRIVER_FAILED',
        `${path} still exists after deleting sandbox ${record.id}; retry the deletion`,
        { details: { stage: 'network', path } },
      );
    }
  }

  await leases.release(record.id);
  if (!keepSandboxDir) await rm(paths.workspace, { recursive: true, force: true });
  await rm(paths.dir, { recursive: true, force: true });
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // ESRCH: already gone, which is what we want.
  }
}
