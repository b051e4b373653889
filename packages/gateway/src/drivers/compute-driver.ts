import type { FilesystemPolicy } from '@openshell/policy-schema';

/**
 * The contract every compute driver (local, docker, kubernetes) implements. The gateway
 * schedules sandboxes only through this interface; nothing above it knows about netns,
 * containers or pods.
 */

/** A TCP destination on the host side of a sandbox's network. */
export interface TcpEndpoint {
  /**
   * IPv4 address the sandbox dials. Absent = the host side of the sandbox's own veth pair
   * (`SandboxNetwork.hostAddress`), which is what the local driver's proxy binds on.
   */
  readonly address?: string;
  readonly port: number;
}

/** Resource limits enforced by the kernel (cgroups). Absent = unlimited. */
export interface SandboxLimits {
  readonly memoryBytes?: number;
  readonly pids?: number;
  /** CPU time per wall second in thousandths of a core (1000 = one core). */
  readonly cpuMillis?: number;
}

/**
 * A host directory bound read-only at `/run/openshell/<name>` (agent, launcher, gateway CA:
 * the directory is root-only, so the sandbox user cannot even list it), or with `public` at
 * `/run/openshell-public/<name>` (0755: what sandboxed processes themselves must read, such
 * as the proxy's CA bundle).
 */
export interface RunBind {
  readonly name: string;
  readonly source: string;
  readonly public?: boolean;
}

/** Everything a driver needs to create one sandbox. */
export interface SandboxSpec {
  /** Short unique id chosen by the gateway: `[a-z0-9][a-z0-9-]{0,30}`, used in host names. */
  readonly id: string;
  /** The policy's filesystem section: what the sandbox can see besides the base system. */
  readonly filesystem: FilesystemPolicy;
  /** Root filesystem directory to use instead of the host's (`sandbox create --from DIR`). */
  readonly from?: string;
  readonly limits?: SandboxLimits;
  /** The only TCP destination the sandbox may reach (the egress proxy). */
  readonly proxy: TcpEndpoint;
  /** The gateway's supervisor endpoint; reachable by the agent's uid (0), never by the sandbox user. */
  readonly supervisor?: TcpEndpoint;
  /** Argv of the agent, run as the first process under bubblewrap's init. Absolute path. */
  readonly command: readonly string[];
  /** Environment of the agent (nothing else is inherited). */
  readonly env?: Readonly<Record<string, string>>;
  readonly runBinds?: readonly RunBind[];
  /**
   * Secret handed to the agent on an inherited file descriptor (number in
   * `OPENSHELL_TOKEN_FD`). Never placed in argv, the environment or a file the sandbox sees.
   */
  readonly token?: string;
  /**
   * The command waits for the driver's start gate itself (the agent's `--start-gate-fd`,
   * given the driver's `startGateFd`): the driver may then start it before the network is
   * configured, so the command's own start-up overlaps the network set-up. Without it the
   * driver starts the command only once the network is in place.
   */
  readonly commandWaitsForGate?: boolean;
}

/** Addresses and interface names of a sandbox's network. */
export interface SandboxNetwork {
  readonly namespace: string;
  readonly hostInterface: string;
  readonly sandboxInterface: string;
  /** Host side of the veth pair; the proxy listens here. */
  readonly hostAddress: string;
  readonly sandboxAddress: string;
  readonly prefixLength: number;
}

/** The host identity the sandbox user runs as (shown as `sandbox` inside). */
export interface SandboxIdentity {
  readonly uid: number;
  readonly gid: number;
}

export interface SandboxExit {
  /** Exit code of the agent (128 + signal number when it was killed), or null if unknown. */
  readonly code: number | null;
}

export type SandboxState = 'running' | 'exited';

/** What the driver knows about a sandbox, after creation or after reattaching. */
export interface SandboxHandle {
  readonly id: string;
  readonly state: SandboxState;
  /** Host pid of bubblewrap's monitor process (the spawned process). */
  readonly pid: number;
  /** Host pid of the PID-namespace init (bubblewrap's reaper, PID 1 inside). */
  readonly initPid: number;
  readonly network: SandboxNetwork;
  readonly identity: SandboxIdentity;
  /** Host directory bound at `/sandbox`. */
  readonly sandboxDir: string;
  /** Host file receiving the agent's stdout and stderr. */
  readonly logFile: string;
  readonly createdAt: string;
  readonly exit?: SandboxExit;
}

/** Host objects a sandbox holds, by kind; used to prove that deletion leaves nothing. */
export interface HostResources {
  readonly netns: readonly string[];
  readonly links: readonly string[];
  /** nftables tables (inside the sandbox's netns). */
  readonly firewall: readonly string[];
  readonly cgroups: readonly string[];
  readonly mounts: readonly string[];
  readonly pids: readonly number[];
  readonly leases: readonly string[];
  readonly files: readonly string[];
  /** Engine containers (docker driver only). */
  readonly containers?: readonly string[];
}

export interface DeleteOptions {
  /** Keep the host directory bound at `/sandbox` (default: remove it). */
  readonly keepSandboxDir?: boolean;
}

/** One compute backend. All methods are safe to call from a fresh instance after a restart. */
export interface ComputeDriver {
  readonly name: string;
  /**
   * Node executable the agent is started with inside the sandbox, when the driver provides
   * its own (the docker driver binds the host's node); absent = `/usr/bin/node`.
   */
  readonly agentNodePath?: string;
  /**
   * The fd on which this driver's sandbox command receives one byte once the sandbox's
   * network is configured, for commands started with `commandWaitsForGate`; absent when the
   * driver cannot start a command before its network is ready.
   */
  readonly startGateFd?: number;
  /** Creates and starts a sandbox; resolves once its process tree exists. */
  create(spec: SandboxSpec): Promise<SandboxHandle>;
  /** The sandbox with this id, running or exited, or undefined when there is none. */
  get(id: string): Promise<SandboxHandle | undefined>;
  list(): Promise<readonly SandboxHandle[]>;
  /** Stops every process and frees every host object; false when the id was unknown. */
  delete(id: string, options?: DeleteOptions): Promise<boolean>;
  /** What the sandbox holds on the host right now, checked against the host itself. */
  resources(id: string): Promise<HostResources>;
  /** Resolves when the agent exits (immediately if it already has). */
  waitExit(id: string): Promise<SandboxExit>;
}
