import { OpenShellError } from '@openshell/policy-schema';
import type { RunBind, SandboxLimits } from '../compute-driver.js';
import { AGENT_CAPABILITIES, PUBLIC_RUN_DIR } from '../local/build-bwrap-args.js';
import type { NodeRuntime } from './node-runtime.js';

/** Where the driver's token fifo is bound inside the container (root-only, like every run bind). */
export const TOKEN_DIR = '/run/openshell/token';
export const TOKEN_FIFO = `${TOKEN_DIR}/fifo`;
/** Label every container of this driver carries; its value names the owning gateway. */
export const OWNER_LABEL = 'io.openshell.owner';
export const SANDBOX_LABEL = 'io.openshell.sandbox';

/**
 * The container's first command. Opening the fifo blocks until the driver has configured the
 * network and opens the other end, so the agent never runs on an unconfigured netns; what the
 * driver writes (the token) reaches the agent as fd 3 and never touches argv, the environment
 * or a file. `exec` keeps the agent as the direct child of the engine's init.
 * `ulimit -c 0` (soft and hard): a core file of the agent would carry its token. It is set
 * here rather than through the create body's Ulimits, because Podman's compatible API then
 * drops containers.conf's default_ulimits and asks runc for nofile/nproc limits above what
 * the engine may grant ("error setting rlimit type 7: operation not permitted").
 */
const GATE_SCRIPT = `ulimit -c 0 || exit 125
exec 3<${TOKEN_FIFO} || exit 125
exec "$@"`;

export interface ContainerInputs {
  readonly image: string;
  readonly name: string;
  readonly owner: string;
  readonly id: string;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workspace: string;
  readonly passwdFile: string;
  readonly groupFile: string;
  readonly tokenDir: string;
  readonly runBinds: readonly RunBind[];
  readonly node: NodeRuntime;
  readonly limits?: SandboxLimits;
}

/** The subset of the Engine API's container create body this driver sends. */
export interface ContainerCreateBody {
  readonly Image: string;
  readonly Entrypoint: readonly string[];
  readonly Cmd: readonly string[];
  readonly Env: readonly string[];
  readonly Hostname: string;
  readonly WorkingDir: string;
  readonly User: string;
  readonly Labels: Readonly<Record<string, string>>;
  readonly HostConfig: Readonly<Record<string, unknown>>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RUN_BIND_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function bindOf(source: string, target: string, mode: 'ro' | 'rw'): string {
  for (const path of [source, target]) {
    // The Binds syntax is `src:dst:opts`; a colon or comma in a path would change its meaning.
    if (path.includes(':') || path.includes(',') || !path.startsWith('/')) {
      throw new OpenShellError(
        'ERR_USAGE',
        `bind path "${path}" must be absolute and contain no ":" or ","`,
      );
    }
  }
  return `${source}:${target}:${mode}`;
}

/**
 * The create body for one sandbox container: the agent (root, only the capabilities it needs,
 * no_new_privs) behind a fifo gate, no network of the engine's own (the driver attaches a
 * netns whose only exit is the proxy), a read-only image root with tmpfs /tmp, the workspace
 * at /sandbox, generated passwd/group, and the install bound read-only under the root-only
 * /run/openshell (0700 tmpfs) as on the local driver.
 */
export function planContainer(inputs: ContainerInputs): ContainerCreateBody {
  const [program] = inputs.command;
  if (program === undefined || !program.startsWith('/')) {
    throw new OpenShellError(
      'ERR_USAGE',
      `sandbox command must start with an absolute path inside the sandbox, got ${JSON.stringify(program ?? '')}`,
    );
  }
  const env: string[] = [];
  for (const [name, value] of Object.entries(inputs.env)) {
    if (!ENV_NAME.test(name)) {
      throw new OpenShellError('ERR_USAGE', `environment variable name "${name}" is not valid`);
    }
    env.push(`${name}=${value}`);
  }
  const binds = [
    bindOf(inputs.workspace, '/sandbox', 'rw'),
    bindOf(inputs.passwdFile, '/etc/passwd', 'ro'),
    bindOf(inputs.groupFile, '/etc/group', 'ro'),
    bindOf(inputs.tokenDir, TOKEN_DIR, 'ro'),
    ...inputs.node.binds.map((b) => bindOf(b.source, b.target, 'ro')),
  ];
  const tmpfs: Record<string, string> = {
    '/tmp': 'rw,nosuid,nodev,mode=1777',
    '/run/openshell': 'rw,nosuid,nodev,mode=0700',
  };
  for (const bind of inputs.runBinds) {
    if (!RUN_BIND_NAME.test(bind.name)) {
      throw new OpenShellError(
        'ERR_USAGE',
        `run bind name "${bind.name}" must match ${String(RUN_BIND_NAME)}`,
      );
    }
    if (bind.public === true) tmpfs[PUBLIC_RUN_DIR] = 'rw,nosuid,nodev,mode=0755';
    const target =
      bind.public === true ? `${PUBLIC_RUN_DIR}/${bind.name}` : `/run/openshell/${bind.name}`;
    binds.push(bindOf(bind.source, target, 'ro'));
  }
  const limits = inputs.limits ?? {};
  return {
    Image: inputs.image,
    Entrypoint: ['/bin/sh', '-c', GATE_SCRIPT, 'openshell-gate'],
    Cmd: [...inputs.command],
    Env: env,
    Hostname: 'sandbox',
    WorkingDir: '/',
    User: '0:0',
    Labels: { [OWNER_LABEL]: inputs.owner, [SANDBOX_LABEL]: inputs.id },
    HostConfig: {
      NetworkMode: 'none',
      Init: true,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      CapAdd: [...AGENT_CAPABILITIES],
      SecurityOpt: ['no-new-privileges'],
      IpcMode: 'private',
      Binds: binds,
      Tmpfs: tmpfs,
      ...(limits.memoryBytes === undefined
        ? {}
        : { Memory: limits.memoryBytes, MemorySwap: limits.memoryBytes }),
      ...(limits.pids === undefined ? {} : { PidsLimit: limits.pids }),
      ...(limits.cpuMillis === undefined ? {} : { NanoCpus: limits.cpuMillis * 1_000_000 }),
    },
  };
}
