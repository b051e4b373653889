import { posix } from 'node:path';
import {
  DEFAULT_POLICY,
  OpenShellError,
  hashPolicy,
  policyToYaml,
  type Policy,
} from '@openshell/policy-schema';
import type {
  ComputeDriver,
  SandboxHandle,
  SandboxLimits,
  TcpEndpoint,
} from '../drivers/compute-driver.js';

/**
 * Where the built sandbox-agent lives on the host. `root` is bound read-only at
 * `/run/openshell/agent`; `entry` is the agent's start file relative to it: normally
 * `packages/sandbox-agent/dist/agent.bundle.mjs` (an esbuild bundle whose `agent.chunk-*.mjs`
 * files sit beside it; node starts it in a fraction of the time of `dist/bin.js`, which still
 * works). The root must contain everything
 * the agent resolves relative to its own files: its node_modules (pnpm links them with
 * relative symlinks, so a workspace root works as-is), the native launcher
 * (`@openshell/native-enforcer/native/build/openshell-launcher`) and the pty helper
 * (`native/build/openshell-pty-exec` of the agent package).
 */
export interface AgentInstall {
  readonly root: string;
  readonly entry: string;
}

/** The gateway's supervisor endpoint as the agent dials it: always TLS, always an IPv4 address. */
export interface SupervisorEndpoint {
  readonly address: string;
  readonly port: number;
  /** Host directory holding `ca.pem` (the CA the agent trusts for this endpoint); no keys. */
  readonly caDir: string;
}

/** Everything needed to start one sandbox with the real agent and launcher. */
export interface SandboxRuntimeOptions {
  readonly driver: ComputeDriver;
  readonly id: string;
  /** Default: DEFAULT_POLICY. Its static sections fix the sandbox's filesystem view. */
  readonly policy?: Policy;
  readonly supervisor: SupervisorEndpoint;
  /** The only TCP destination for sandboxed processes; also their HTTP(S)_PROXY. */
  readonly proxy: { readonly address: string; readonly port: number };
  /** Per-sandbox secret; reaches the agent on fd 3, never argv or env. */
  readonly token: string;
  /** Argv of the main process, started by the agent once the supervisor sends it. */
  readonly main: readonly string[];
  readonly agent: AgentInstall;
  readonly limits?: SandboxLimits;
  /** Node inside the sandbox (under /usr, which every policy's base system includes). */
  readonly nodePath?: string;
  /** `sandbox create --from`: a root filesystem directory (local driver) or an image (docker). */
  readonly from?: string;
  /**
   * Host directory holding only the CA bundle sandboxed TLS clients must trust (system roots +
   * the proxy's interception CA), and the file's name in it; bound read-only at
   * `/run/openshell-public/sandbox-ca` (readable by the sandbox user). Never the proxy's state dir: that holds the CA's private key.
   */
  readonly caBundle?: { readonly dir: string; readonly file: string };
}

/** What the supervisor answers an agent's first hello with: policy version 1, then `main`. */
export interface FirstContact {
  readonly policy: Policy;
  readonly policyYaml: string;
  readonly policyHash: string;
  readonly main: readonly string[];
}

/** A started sandbox plus its first contact. */
export interface SandboxRuntime extends FirstContact {
  readonly handle: SandboxHandle;
}

const AGENT_MOUNT = '/run/openshell/agent';
const CA_MOUNT = '/run/openshell/gateway-ca';
const SANDBOX_CA_MOUNT = '/run/openshell-public/sandbox-ca';

/**
 * The sandbox uid is the driver's choice (one host uid per lease) and is known only inside,
 * as OPENSHELL_SANDBOX_UID/GID; `sh` turns it into the agent's flags and then execs node, so
 * the agent is still the process right under bubblewrap's init. Only constants are written into
 * the script; every other value arrives as a positional parameter or from the environment.
 *
 * Node flags and environment for the agent alone (the launcher gives every sandboxed process
 * its own explicit environment, so none of this reaches them):
 * - `--use-openssl-ca` with SSL_CERT_FILE/SSL_CERT_DIR on the gateway CA: the agent's only
 *   TLS peer is the gateway, so it trusts only the gateway's CA. It is also faster: Node's
 *   default store parses its ~140 bundled roots (~25 ms of CPU) when the first custom CA is
 *   added; OpenSSL's store reads the one file given.
 * `--max-semi-space-size=1` was measured and left out: it spends ~30 ms more CPU at start-up
 * (extra scavenges) for memory that only shows after many execs (~6 MB private after 220,
 * bench/results/agent-exec.md); one idle sandbox stays well inside its 40 MB without it.
 */
const AGENT_WRAPPER = `node=$1
shift
SSL_CERT_FILE=${CA_MOUNT}/ca.pem SSL_CERT_DIR=${CA_MOUNT} exec "$node" --use-openssl-ca "$@" --sandbox-uid "$OPENSHELL_SANDBOX_UID" --sandbox-gid "$OPENSHELL_SANDBOX_GID"`;

/**
 * The supervisor's answer to a sandbox's first hello. Known before the sandbox exists, so a
 * supervisor can register it before the agent (which dials at once) says hello.
 */
export function planFirstContact(policy: Policy, main: readonly string[]): FirstContact {
  return { policy, policyYaml: policyToYaml(policy), policyHash: hashPolicy(policy), main };
}

/**
 * Creates a sandbox whose first process is the sandbox-agent in gateway mode (TLS to the
 * supervisor endpoint, token on fd 3); the agent then starts every process through the native
 * launcher as the sandbox's host uid. The caller's supervisor must answer hello with the
 * returned first contact (see planFirstContact).
 *
 * @example
 * const runtime = await startSandboxRuntime({ driver, id: 'demo', supervisor, proxy, token, main: ['bash'], agent });
 */
export async function startSandboxRuntime(options: SandboxRuntimeOptions): Promise<SandboxRuntime> {
  const policy = options.policy ?? DEFAULT_POLICY;
  const entry = posix.normalize(options.agent.entry);
  if (posix.isAbsolute(entry) || entry.startsWith('..')) {
    throw new OpenShellError(
      'ERR_USAGE',
      `agent entry "${options.agent.entry}" must be a path inside the agent root ${options.agent.root}`,
    );
  }
  const { supervisor, proxy } = options;
  const endpoint: TcpEndpoint = { address: supervisor.address, port: supervisor.port };
  const command = [
    '/bin/sh',
    '-c',
    AGENT_WRAPPER,
    'openshell-agent',
    options.nodePath ?? options.driver.agentNodePath ?? '/usr/bin/node',
    posix.join(AGENT_MOUNT, entry),
    '--gateway',
    `${supervisor.address}:${String(supervisor.port)}`,
    '--gateway-ca',
    `${CA_MOUNT}/ca.pem`,
    '--sandbox-id',
    options.id,
    '--token-fd',
    '3',
    // The agent loads (node, its bundle, the kernel probe) while the driver still configures
    // the network; only its first connection waits for the driver's gate.
    ...(options.driver.startGateFd === undefined
      ? []
      : ['--start-gate-fd', String(options.driver.startGateFd)]),
    '--home',
    '/sandbox',
    '--proxy-url',
    `http://${proxy.address}:${String(proxy.port)}`,
    ...(options.caBundle === undefined
      ? []
      : ['--ca-bundle', posix.join(SANDBOX_CA_MOUNT, options.caBundle.file)]),
  ];
  const handle = await options.driver.create({
    id: options.id,
    filesystem: policy.filesystem_policy,
    proxy: { address: proxy.address, port: proxy.port },
    supervisor: endpoint,
    command,
    token: options.token,
    ...(options.driver.startGateFd === undefined ? {} : { commandWaitsForGate: true }),
    runBinds: [
      { name: 'agent', source: options.agent.root },
      { name: 'gateway-ca', source: supervisor.caDir },
      ...(options.caBundle === undefined
        ? []
        : [{ name: 'sandbox-ca', source: options.caBundle.dir, public: true }]),
    ],
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.from === undefined ? {} : { from: options.from }),
  });
  return { handle, ...planFirstContact(policy, options.main) };
}
