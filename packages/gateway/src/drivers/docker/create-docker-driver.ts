import { constants as fsConstants } from 'node:fs';
import { access, chown, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OpenShellError } from '@openshell/policy-schema';
import { assertSandboxSpec, claimSandboxDir, SANDBOX_ID_PATTERN } from '../assert-sandbox-spec.js';
import type {
  ComputeDriver,
  HostResources,
  SandboxHandle,
  SandboxNetwork,
  SandboxSpec,
} from '../compute-driver.js';
import { buildIdentityFiles } from '../local/build-bwrap-args.js';
import { parseIpv4Cidr } from '../local/ipv4.js';
import { createLeaseStore, type Lease } from '../local/lease-store.js';
import { planNetwork, resolveEndpoint } from '../local/plan-network.js';
import {
  attachContainerNetwork,
  detachContainerNetwork,
  listFirewall,
  type NetworkTools,
} from './container-network.js';
import {
  createEngineClient,
  describeEngine,
  parseDockerHost,
  type EngineVersion,
} from './engine-client.js';
import { prepareNodeRuntime } from './node-runtime.js';
import { planContainer } from './plan-container.js';
import { mkfifo, openGate, removeFifo } from './token-gate.js';
import { resolveImage } from './resolve-image.js';

/** Options of the docker (Engine API; Docker or Podman) compute driver. */
export interface DockerDriverOptions {
  /** Root-only directory for leases, per-sandbox records, workspaces and token fifos. */
  readonly stateDir: string;
  /** `unix:///run/podman/podman.sock`, `unix:///var/run/docker.sock` or a socket path. */
  readonly dockerHost: string;
  /** Image for sandboxes created without `--from`; absent = `--from` is required. */
  readonly defaultImage?: string;
  readonly addressPool?: string;
  readonly uidBase?: number;
  /** Prefix of host object names (netns, veth) and of container names: 1–4 lowercase letters. */
  readonly namePrefix?: string;
  /** Node binary the agent runs on (default: the gateway's own). */
  readonly nodeBinary?: string;
}

/** The docker driver also says which engine it talks to and how the agent's node is started. */
export interface DockerDriver extends ComputeDriver {
  /** `Podman Engine 4.3.1, API 4.3.1` (what `GET /version` answered at creation). */
  readonly engine: string;
}

interface ContainerRecord {
  readonly version: 1;
  readonly id: string;
  readonly createdAt: string;
  readonly lease: Lease;
  readonly network: SandboxNetwork;
  readonly workspace: string;
  readonly containerName: string;
  readonly containerId?: string;
  readonly image?: string;
}

interface ContainerInspect {
  readonly Id: string;
  readonly State: {
    readonly Running: boolean;
    readonly Pid: number;
    readonly ExitCode: number;
    readonly Status: string;
  };
  readonly LogPath?: string;
}

const TOOLS: NetworkTools = {
  ip: '/usr/bin/ip',
  nft: '/usr/sbin/nft',
  nsenter: '/usr/bin/nsenter',
};

/**
 * The docker compute driver: one container per sandbox through the Engine API (Docker's, or
 * Podman's compatible service). The agent is the container's first process under the engine's
 * init, with only the capabilities it needs; the image brings the root filesystem, the install
 * (agent bundle, static launcher, the host's node) is bound read-only. The container has no
 * engine network: the driver gives its netns the local driver's veth pair and nftables
 * ruleset, so the proxy is the only exit, and the proxy identifies callers through the host's
 * /proc exactly as for local sandboxes (the engine runs on this host). Requires root.
 *
 * @example
 * const driver = await createDockerDriver({ stateDir, dockerHost: 'unix:///run/podman/podman.sock' });
 */
export async function createDockerDriver(options: DockerDriverOptions): Promise<DockerDriver> {
  if (process.getuid?.() !== 0) {
    throw new OpenShellError(
      'ERR_HOST_UNSUPPORTED',
      'the docker driver needs root (it configures each container network namespace with ip and nft); run the gateway as root',
    );
  }
  const engine = createEngineClient(parseDockerHost(options.dockerHost));
  const version = await engine.json<EngineVersion>('GET', '/version', undefined, 5_000);
  const pool = parseIpv4Cidr(options.addressPool ?? '10.200.0.0/16');
  const prefix = options.namePrefix ?? 'os';
  if (!/^[a-z]{1,4}$/.test(prefix)) {
    throw new OpenShellError('ERR_USAGE', `namePrefix "${prefix}" must be 1–4 lowercase letters`);
  }
  for (const tool of [TOOLS.ip, TOOLS.nft, TOOLS.nsenter]) {
    await access(tool, fsConstants.X_OK).catch((cause: unknown) => {
      throw new OpenShellError(
        'ERR_HOST_UNSUPPORTED',
        `${tool} not found; install it (Debian: apt-get install iproute2 nftables util-linux)`,
        { cause },
      );
    });
  }
  const stateDir = options.stateDir;
  await mkdir(join(stateDir, 'sandboxes'), { recursive: true, mode: 0o700 });
  await mkdir(join(stateDir, 'workspaces'), { recursive: true, mode: 0o700 });
  const node = await prepareNodeRuntime(stateDir, options.nodeBinary);
  const leases = createLeaseStore({
    file: join(stateDir, 'leases.json'),
    pool,
    uidBase: options.uidBase ?? 200_000,
  });
  const owner = `${prefix}:${stateDir}`;
  const dirOf = (id: string): string => join(stateDir, 'sandboxes', id);
  const recordPath = (id: string): string => join(dirOf(id), 'record.json');

  async function readRecord(id: string): Promise<ContainerRecord | undefined> {
    if (!SANDBOX_ID_PATTERN.test(id)) return undefined;
    const text = await readFile(recordPath(id), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as ContainerRecord);
  }
  async function writeRecord(record: ContainerRecord): Promise<void> {
    // Replaced atomically: a crash never leaves a half-written record for the next gateway.
    const tmp = `${recordPath(record.id)}.tmp`;
    await writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
    await rename(tmp, recordPath(record.id));
  }
  async function inspect(record: ContainerRecord): Promise<ContainerInspect | undefined> {
    const ref = record.containerId ?? record.containerName;
    try {
      return await engine.json<ContainerInspect>('GET', `/containers/${ref}/json`);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_SANDBOX_NOT_FOUND') return undefined;
      throw error;
    }
  }
  async function toHandle(record: ContainerRecord): Promise<SandboxHandle> {
    const info = await inspect(record);
    const running = info?.State.Running === true;
    const handle: SandboxHandle = {
      id: record.id,
      state: running ? 'running' : 'exited',
      pid: running ? (info?.State.Pid ?? 0) : 0,
      initPid: running ? (info?.State.Pid ?? 0) : 0,
      network: record.network,
      identity: { uid: record.lease.uid, gid: record.lease.gid },
      sandboxDir: record.workspace,
      logFile: info?.LogPath ?? '',
      createdAt: record.createdAt,
    };
    return running ? handle : { ...handle, exit: { code: info?.State.ExitCode ?? null } };
  }
  async function requireRecord(id: string): Promise<ContainerRecord> {
    const record = await readRecord(id);
    if (record === undefined) {
      throw new OpenShellError(
        'ERR_SANDBOX_NOT_FOUND',
        `sandbox "${id}" not found on the docker driver`,
      );
    }
    return record;
  }
  async function removeContainer(ref: string): Promise<void> {
    try {
      await engine.json('DELETE', `/containers/${ref}?force=true&v=true`);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_SANDBOX_NOT_FOUND') throw error;
    }
  }
  async function teardown(record: ContainerRecord, keepWorkspace: boolean): Promise<void> {
    await removeContainer(record.containerId ?? record.containerName);
    await detachContainerNetwork(TOOLS, record.network);
    await leases.release(record.id);
    if (!keepWorkspace) await rm(record.workspace, { recursive: true, force: true });
    await removeFifo(join(dirOf(record.id), 'token', 'fifo'), stateDir);
    await rm(dirOf(record.id), { recursive: true, force: true });
  }

  async function create(spec: SandboxSpec): Promise<SandboxHandle> {
    assertSandboxSpec(spec);
    const from = spec.from ?? options.defaultImage;
    if (from === undefined) {
      throw new OpenShellError(
        'ERR_USAGE',
        'the docker driver needs an image: pass `--from IMAGE|Dockerfile|DIR` to `sandbox create`, or start the gateway with --docker-image',
      );
    }
    const dir = dirOf(spec.id);
    await claimSandboxDir(dir, spec.id);
    let record: ContainerRecord | undefined;
    try {
      const lease = await leases.acquire(spec.id);
      const proxy = resolveEndpoint('proxy', spec.proxy, lease.hostAddress);
      const supervisor =
        spec.supervisor && resolveEndpoint('supervisor', spec.supervisor, lease.hostAddress);
      const plan = planNetwork(prefix, lease, proxy, supervisor);
      const network: SandboxNetwork = {
        namespace: plan.namespace,
        hostInterface: plan.hostInterface,
        sandboxInterface: plan.sandboxInterface,
        hostAddress: plan.hostAddress,
        sandboxAddress: plan.sandboxAddress,
        prefixLength: plan.prefixLength,
      };
      record = {
        version: 1,
        id: spec.id,
        createdAt: new Date().toISOString(),
        lease,
        network,
        workspace: join(stateDir, 'workspaces', spec.id),
        containerName: `openshell-${prefix}-${spec.id}-${lease.tag}`,
      };
      await writeRecord(record);
      const image = await resolveImage(engine, from);
      const identity = buildIdentityFiles(lease.uid, lease.gid);
      const tokenDir = join(dir, 'token');
      await mkdir(tokenDir, { mode: 0o700 });
      await Promise.all([
        writeFile(join(dir, 'passwd'), identity.passwd, { mode: 0o644 }),
        writeFile(join(dir, 'group'), identity.group, { mode: 0o644 }),
        prepareWorkspace(record.workspace, lease.uid, lease.gid),
        mkfifo(join(tokenDir, 'fifo')),
      ]);
      const body = planContainer({
        image,
        name: record.containerName,
        owner,
        id: spec.id,
        command: spec.command,
        env: {
          PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          ...spec.env,
          OPENSHELL_SANDBOX_ID: spec.id,
          OPENSHELL_SANDBOX_UID: String(lease.uid),
          OPENSHELL_SANDBOX_GID: String(lease.gid),
          ...(spec.token === undefined ? {} : { OPENSHELL_TOKEN_FD: '3' }),
        },
        workspace: record.workspace,
        passwdFile: join(dir, 'passwd'),
        groupFile: join(dir, 'group'),
        tokenDir,
        runBinds: spec.runBinds ?? [],
        node,
        ...(spec.limits === undefined ? {} : { limits: spec.limits }),
      });
      const created = await engine.json<{ Id: string }>(
        'POST',
        `/containers/create?name=${encodeURIComponent(record.containerName)}`,
        body,
      );
      record = { ...record, containerId: created.Id, image };
      await writeRecord(record);
      await engine.json('POST', `/containers/${created.Id}/start`);
      const info = await inspect(record);
      if (info === undefined || !info.State.Running || info.State.Pid <= 0) {
        throw new OpenShellError(
          'ERR_COMPUTE_DRIVER_FAILED',
          `container ${record.containerName} stopped right after starting (status ${info?.State.Status ?? 'gone'}, exit ${String(info?.State.ExitCode)}); see \`podman logs ${record.containerName}\` (or docker logs)`,
        );
      }
      await attachContainerNetwork(TOOLS, plan, info.State.Pid);
      const started = record;
      await openGate(
        join(tokenDir, 'fifo'),
        spec.token ?? '',
        async () => (await inspect(started))?.State.Running === true,
      );
      await removeFifo(join(tokenDir, 'fifo'), stateDir);
      return await toHandle(record);
    } catch (cause) {
      if (record === undefined) {
        await leases.release(spec.id);
        await rm(dir, { recursive: true, force: true });
      } else {
        await teardown(record, false).catch((rollback: unknown) => {
          if (cause instanceof Error) Object.assign(cause, { rollbackError: rollback });
        });
      }
      throw cause;
    }
  }

  return {
    name: 'docker',
    engine: describeEngine(version),
    agentNodePath: node.nodePath,
    create,
    async get(id) {
      const record = await readRecord(id);
      return record === undefined ? undefined : toHandle(record);
    },
    async list() {
      const handles: SandboxHandle[] = [];
      for (const id of (await readdir(join(stateDir, 'sandboxes'))).sort()) {
        const record = await readRecord(id);
        if (record !== undefined) handles.push(await toHandle(record));
      }
      return handles;
    },
    async delete(id, deleteOptions = {}) {
      const record = await readRecord(id);
      if (record === undefined) {
        const released = await leases.release(id);
        await rm(dirOf(id), { recursive: true, force: true });
        return released;
      }
      await teardown(record, deleteOptions.keepSandboxDir ?? false);
      return true;
    },
    async resources(id): Promise<HostResources> {
      const record = await requireRecord(id);
      const info = await inspect(record);
      const lease = await leases.get(id);
      const exists = (path: string): Promise<boolean> =>
        access(path).then(
          () => true,
          () => false,
        );
      return {
        netns: (await exists(`/run/netns/${record.network.namespace}`))
          ? [record.network.namespace]
          : [],
        links: (await exists(`/sys/class/net/${record.network.hostInterface}`))
          ? [record.network.hostInterface]
          : [],
        firewall: await listFirewall(TOOLS, record.network.namespace),
        cgroups: [],
        mounts: [],
        pids: info?.State.Running === true ? [info.State.Pid] : [],
        leases: lease === undefined ? [] : [id],
        files: (await exists(dirOf(id))) ? [dirOf(id)] : [],
        containers: info === undefined ? [] : [info.Id],
      };
    },
    async waitExit(id) {
      const record = await requireRecord(id);
      const ref = record.containerId ?? record.containerName;
      try {
        const result = await engine.json<{ StatusCode: number }>(
          'POST',
          `/containers/${ref}/wait?condition=not-running`,
          undefined,
          2 ** 31 - 1,
        );
        return { code: result.StatusCode };
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ERR_SANDBOX_NOT_FOUND') return { code: null };
        throw error;
      }
    },
  };
}

/** The /sandbox directory, owned by the sandbox's uid (a kept one is re-owned by the new uid). */
async function prepareWorkspace(dir: string, uid: number, gid: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chown(dir, uid, gid);
}
