import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { constants as fsConstants } from 'node:fs';
import { access, chown, lchown, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenShellError } from '@openshell/policy-schema';
import { assertSandboxSpec, claimSandboxDir } from '../assert-sandbox-spec.js';
import type {
  ComputeDriver,
  HostResources,
  SandboxExit,
  SandboxHandle,
  SandboxSpec,
} from '../compute-driver.js';
import { buildBwrapArgs, buildIdentityFiles, FD } from './build-bwrap-args.js';
import {
  assertLimitsSupported,
  createSandboxCgroups,
  detectCgroupLayout,
  planSandboxCgroups,
  prepareCgroupParents,
  type CgroupLayout,
} from './cgroups.js';
import { createLeaseStore } from './lease-store.js';
import { listSandboxResources } from './list-resources.js';
import {
  resolveLocalDriverOptions,
  type HostTools,
  type LocalDriverOptions,
} from './local-driver-options.js';
import { planMounts } from './plan-mounts.js';
import { planNetwork, resolveEndpoint } from './plan-network.js';
import {
  isSameProcess,
  readExitCode,
  readRecord,
  sandboxPaths,
  writeRecord,
  type SandboxRecord,
} from './sandbox-state.js';
import { startSandbox } from './start-sandbox.js';
import { teardownSandbox } from './teardown-sandbox.js';

export interface LocalDriverDeps {
  /** cgroup hierarchies to use (default: detected from /proc/self/mountinfo). */
  readonly cgroupLayout?: CgroupLayout;
}

const EXIT_POLL_MS = 50;

/**
 * The local compute driver: one network namespace (nftables loaded before any link is up,
 * no default route) plus one bubblewrap tree per sandbox, started detached so it outlives
 * the gateway, limited by cgroups, and found again from the state dir after a restart.
 * Requires root. Fails closed when a tool or a requested cgroup controller is missing.
 *
 * @example
 * const driver = await createLocalDriver({ stateDir: '/var/lib/openshell/local' });
 * const sandbox = await driver.create({ id: 'demo', filesystem, proxy: { port: 3128 }, command: ['/run/openshell/agent/agent'] });
 */
export async function createLocalDriver(
  options: LocalDriverOptions,
  deps: LocalDriverDeps = {},
): Promise<ComputeDriver> {
  const resolved = resolveLocalDriverOptions(options);
  await assertHostReady(resolved.tools);
  const layout = deps.cgroupLayout ?? (await detectCgroupLayout());
  await mkdir(join(resolved.stateDir, 'sandboxes'), { recursive: true, mode: 0o700 });
  await mkdir(join(resolved.stateDir, 'workspaces'), { recursive: true, mode: 0o700 });
  await prepareCgroupParents(layout, resolved.cgroupParent);
  const leases = createLeaseStore({
    file: join(resolved.stateDir, 'leases.json'),
    pool: resolved.pool,
    uidBase: resolved.uidBase,
  });
  /** Children this instance spawned: their exit is an event; others are polled. */
  const children = new Map<string, ChildProcess>();

  async function exitOf(record: SandboxRecord): Promise<SandboxExit> {
    const code = await readExitCode(sandboxPaths(resolved.stateDir, record.id).status);
    if (code !== null) return { code };
    const child = children.get(record.id);
    if (child?.exitCode !== null && child?.exitCode !== undefined) return { code: child.exitCode };
    const signal = child?.signalCode;
    return { code: signal ? 128 + osConstants.signals[signal] : null };
  }

  async function toHandle(record: SandboxRecord): Promise<SandboxHandle> {
    const alive =
      record.phase === 'running' && (await isSameProcess(record.pid, record.pidStartTime));
    const handle: SandboxHandle = {
      id: record.id,
      state: alive ? 'running' : 'exited',
      pid: record.pid ?? 0,
      initPid: record.initPid ?? 0,
      network: record.network,
      identity: { uid: record.lease.uid, gid: record.lease.gid },
      sandboxDir: record.sandboxDir,
      logFile: sandboxPaths(resolved.stateDir, record.id).log,
      createdAt: record.createdAt,
    };
    return alive ? handle : { ...handle, exit: await exitOf(record) };
  }

  async function requireRecord(id: string): Promise<SandboxRecord> {
    const record = await readRecord(sandboxPaths(resolved.stateDir, id).record);
    if (record === undefined) {
      throw new OpenShellError(
        'ERR_SANDBOX_NOT_FOUND',
        `sandbox "${id}" not found on the local driver`,
      );
    }
    return record;
  }

  async function create(spec: SandboxSpec): Promise<SandboxHandle> {
    assertSandboxSpec(spec);
    assertLimitsSupported(layout, spec.limits ?? {});
    const paths = sandboxPaths(resolved.stateDir, spec.id);
    await claimSandboxDir(paths.dir, spec.id);
    let record: SandboxRecord | undefined;
    try {
      const lease = await leases.acquire(spec.id);
      const proxy = resolveEndpoint('proxy', spec.proxy, lease.hostAddress);
      const supervisor =
        spec.supervisor && resolveEndpoint('supervisor', spec.supervisor, lease.hostAddress);
      const plan = planNetwork(resolved.namePrefix, lease, proxy, supervisor);
      const mounts = planMounts(spec.filesystem, spec.from);
      const { hostSetup, ruleset, sandboxSetup, ...network } = plan;
      const cgroupName = `${spec.id}-${lease.tag}`;
      record = {
        version: 1,
        id: spec.id,
        phase: 'provisioning',
        createdAt: new Date().toISOString(),
        lease,
        network,
        cgroups: planSandboxCgroups(layout, resolved.cgroupParent, cgroupName),
        sandboxDir: paths.workspace,
      };
      await writeRecord(paths.record, record);
      const identity = buildIdentityFiles(lease.uid, lease.gid);
      const env = {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        ...spec.env,
        OPENSHELL_SANDBOX_ID: spec.id,
        OPENSHELL_SANDBOX_UID: String(lease.uid),
        OPENSHELL_SANDBOX_GID: String(lease.gid),
        ...(spec.token === undefined ? {} : { OPENSHELL_TOKEN_FD: String(FD.token) }),
      };
      const args = buildBwrapArgs({
        mounts,
        fromRoot: spec.from !== undefined,
        sandboxDir: paths.workspace,
        passwdFile: paths.passwd,
        groupFile: paths.group,
        runBinds: spec.runBinds ?? [],
        env,
        command: spec.command,
        ...(spec.commandWaitsForGate === true ? { commandWaitsForGate: true } : {}),
      });
      await settleAll([
        writeFile(paths.hostSetup, hostSetup, { mode: 0o600 }),
        writeFile(paths.passwd, identity.passwd, { mode: 0o644 }),
        writeFile(paths.group, identity.group, { mode: 0o644 }),
        writeFile(paths.ruleset, ruleset, { mode: 0o600 }),
        writeFile(paths.sandboxSetup, sandboxSetup, { mode: 0o600 }),
        writeFile(paths.args, args.map((arg) => `${arg}\0`).join(''), { mode: 0o600 }),
        prepareWorkspace(paths.workspace, lease.uid, lease.gid),
        createSandboxCgroups(layout, resolved.cgroupParent, cgroupName, spec.limits ?? {}),
      ]);
      const started = await startSandbox({
        tools: resolved.tools,
        namespace: network.namespace,
        hostSetupFile: paths.hostSetup,
        rulesetFile: paths.ruleset,
        sandboxSetupFile: paths.sandboxSetup,
        cgroupProcs: record.cgroups.paths.map((path) => join(path, 'cgroup.procs')),
        argsFile: paths.args,
        command: spec.command,
        logFile: paths.log,
        statusFile: paths.status,
        ...(spec.token === undefined ? {} : { token: spec.token }),
      });
      children.set(spec.id, started.child);
      record = {
        ...record,
        phase: 'running',
        pid: started.pid,
        pidStartTime: started.startTime,
        initPid: started.initPid,
      };
      await writeRecord(paths.record, record);
      return await toHandle(record);
    } catch (cause) {
      const failed = record;
      const child = children.get(spec.id);
      children.delete(spec.id);
      if (failed === undefined) {
        await leases.release(spec.id);
        await rm(paths.dir, { recursive: true, force: true });
      } else {
        // The original failure is what the caller needs; a rollback error is attached to it.
        await teardownSandbox({ options: resolved, leases }, failed, child, false).catch(
          (rollback: unknown) => {
            if (cause instanceof Error) Object.assign(cause, { rollbackError: rollback });
          },
        );
      }
      throw cause;
    }
  }

  return {
    name: 'local',
    startGateFd: FD.gate,
    create,
    async get(id) {
      const record = await readRecord(sandboxPaths(resolved.stateDir, id).record);
      return record === undefined ? undefined : toHandle(record);
    },
    async list() {
      const ids = await readdir(join(resolved.stateDir, 'sandboxes'));
      const handles: SandboxHandle[] = [];
      for (const id of ids.sort()) {
        const record = await readRecord(sandboxPaths(resolved.stateDir, id).record);
        if (record !== undefined) handles.push(await toHandle(record));
      }
      return handles;
    },
    async delete(id, deleteOptions = {}) {
      const record = await readRecord(sandboxPaths(resolved.stateDir, id).record);
      if (record === undefined) {
        // A create that crashed before writing its record may still hold a lease.
        const released = await leases.release(id);
        await rm(sandboxPaths(resolved.stateDir, id).dir, { recursive: true, force: true });
        return released;
      }
      const child = children.get(id);
      await teardownSandbox(
        { options: resolved, leases },
        record,
        child,
        deleteOptions.keepSandboxDir ?? false,
      );
      children.delete(id);
      return true;
    },
    async resources(id): Promise<HostResources> {
      const record = await requireRecord(id);
      return listSandboxResources(resolved.tools, resolved.stateDir, record, await leases.get(id));
    },
    async waitExit(id) {
      const record = await requireRecord(id);
      const child = children.get(id);
      if (child !== undefined) {
        if (child.exitCode === null && child.signalCode === null) {
          // The child is unref'd so a gateway can exit while sandboxes run; a waiter holds
          // the event loop open for as long as it waits.
          child.ref();
          await once(child, 'exit').finally(() => child.unref());
        }
      } else {
        while (await isSameProcess(record.pid, record.pidStartTime)) await sleep(EXIT_POLL_MS);
      }
      return exitOf(record);
    },
  };
}

async function assertHostReady(tools: HostTools): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new OpenShellError(
      'ERR_HOST_UNSUPPORTED',
      'the local driver needs root (network namespaces, nftables, cgroups); run the gateway as root or use the docker driver',
    );
  }
  for (const [name, path] of Object.entries(tools) as [string, string][]) {
    try {
      await access(path, fsConstants.X_OK);
    } catch (cause) {
      throw new OpenShellError(
        'ERR_HOST_UNSUPPORTED',
        `${name} not found at ${path}; install it (Debian: apt-get install bubblewrap nftables iproute2 util-linux)`,
        { cause },
      );
    }
  }
}

/**
 * Like Promise.all, but waits for every step before rejecting: a rollback must not race a
 * step (an `ip netns add`) that is still running.
 */
async function settleAll(steps: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(steps);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
}

/** The /sandbox directory, owned by the sandbox's uid (a kept one is re-owned by the new uid). */
async function prepareWorkspace(dir: string, uid: number, gid: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chown(dir, uid, gid);
  for (const entry of await readdir(dir, { recursive: true, encoding: 'utf8' })) {
    await lchown(join(dir, entry), uid, gid);
  }
}
