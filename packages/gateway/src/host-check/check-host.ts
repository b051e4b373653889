import { probeKernel, type KernelProbe } from '@openshell/native-enforcer';
import { detectCgroupLayout, type CgroupLayout } from '../drivers/local/cgroups.js';
import { runCommand, type CommandResult } from '../drivers/local/run-command.js';

export type HostCheckStatus = 'ok' | 'warn' | 'missing';

/** One thing the local driver needs, whether this host has it, and how to get it. */
export interface HostCheck {
  readonly name: string;
  /** Which enforcement domain depends on it. */
  readonly domain: 'filesystem' | 'process' | 'network' | 'resources' | 'runtime';
  readonly status: HostCheckStatus;
  readonly detail: string;
  /** What to do about it; absent when status is ok. */
  readonly fix?: string;
}

export interface HostReport {
  readonly checks: readonly HostCheck[];
  /** True when nothing required is missing (warnings allowed). */
  readonly ready: boolean;
  readonly kernel: KernelProbe | null;
}

export interface CheckHostDeps {
  readonly probeKernel: () => Promise<KernelProbe>;
  readonly runCommand: (argv: readonly string[]) => Promise<CommandResult>;
  readonly detectCgroupLayout: () => Promise<CgroupLayout>;
  readonly uid: () => number;
  readonly nodeVersion: string;
}

const DEFAULT_DEPS: CheckHostDeps = {
  probeKernel: () => probeKernel(),
  runCommand: (argv) => runCommand(argv),
  detectCgroupLayout: () => detectCgroupLayout(),
  uid: () => process.getuid?.() ?? -1,
  nodeVersion: process.versions.node,
};

/** The host tools the local driver runs, with the Debian package that provides each. */
const TOOLS = [
  { name: 'bubblewrap', argv: ['bwrap', '--version'], pkg: 'bubblewrap', domain: 'filesystem' },
  { name: 'nftables', argv: ['nft', '--version'], pkg: 'nftables', domain: 'network' },
  { name: 'iproute2', argv: ['ip', '-V'], pkg: 'iproute2', domain: 'network' },
  { name: 'nsenter', argv: ['nsenter', '--version'], pkg: 'util-linux', domain: 'network' },
] as const;

/**
 * Reports what this host can enforce for the local driver and, for everything missing,
 * the package to install or the kernel option to enable. Never throws: a probe that
 * fails is itself a finding.
 */
export async function checkHost(deps: Partial<CheckHostDeps> = {}): Promise<HostReport> {
  const d: CheckHostDeps = { ...DEFAULT_DEPS, ...deps };
  const checks: HostCheck[] = [];

  const uid = d.uid();
  checks.push(
    uid === 0
      ? { name: 'root', domain: 'runtime', status: 'ok', detail: 'running as root' }
      : {
          name: 'root',
          domain: 'runtime',
          status: 'missing',
          detail: `running as uid ${uid}; the local driver creates network namespaces and cgroups`,
          fix: 'run the gateway as root (like a container engine), e.g. with sudo',
        },
  );

  const [major = 0, minor = 0] = d.nodeVersion.split('.').map(Number);
  const nodeOk = major > 20 || (major === 20 && minor >= 19);
  checks.push({
    name: 'node',
    domain: 'runtime',
    status: nodeOk ? 'ok' : 'missing',
    detail: `Node.js ${d.nodeVersion}`,
    ...(nodeOk ? {} : { fix: 'install Node.js 20.19 or newer' }),
  });

  for (const tool of TOOLS) {
    const result = await d.runCommand(tool.argv).catch((error: unknown) => ({
      code: null,
      stdout: '',
      stderr: error instanceof Error ? error.message : String(error),
    }));
    const version = `${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? '';
    checks.push(
      result.code === 0
        ? { name: tool.name, domain: tool.domain, status: 'ok', detail: version }
        : {
            name: tool.name,
            domain: tool.domain,
            status: 'missing',
            detail: `${tool.argv[0]} not found or not runnable`,
            fix: `apt-get install ${tool.pkg}`,
          },
    );
  }

  let kernel: KernelProbe | null = null;
  try {
    kernel = await d.probeKernel();
  } catch (error) {
    checks.push({
      name: 'launcher',
      domain: 'process',
      status: 'missing',
      detail: `the native launcher could not probe the kernel: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'build it: bash scripts/setup.sh (needs gcc and libc6-dev)',
    });
  }
  if (kernel !== null) checks.push(...kernelChecks(kernel));

  checks.push(...cgroupChecks(await d.detectCgroupLayout().catch(() => ({ controllers: {} }))));

  return { checks, ready: checks.every((c) => c.status !== 'missing'), kernel };
}

function kernelChecks(k: KernelProbe): HostCheck[] {
  const abi = k.landlock.abi;
  const landlock: HostCheck =
    abi >= 6
      ? {
          name: 'landlock',
          domain: 'filesystem',
          status: 'ok',
          detail: `ABI ${abi} (file access, truncate, signal and abstract-socket scoping)`,
        }
      : abi >= 3
        ? {
            name: 'landlock',
            domain: 'filesystem',
            status: 'warn',
            detail: `ABI ${abi}: no signal/abstract-socket scoping (needs ABI 6, Linux 6.12)`,
            fix: 'upgrade the kernel to 6.12 or newer for full Landlock scoping',
          }
        : {
            name: 'landlock',
            domain: 'filesystem',
            status: abi === 0 ? 'missing' : 'warn',
            detail:
              abi === 0
                ? `unavailable (${k.landlock.unavailableReason ?? 'unknown reason'}); only the mount namespace limits file access`
                : `ABI ${abi}: truncate is not controlled; hard_requirement policies are refused (needs ABI 3)`,
            fix: 'boot a kernel with CONFIG_SECURITY_LANDLOCK=y and "landlock" in the lsm= list (Linux ≥ 6.2 for ABI 3)',
          };
  return [
    landlock,
    k.seccomp
      ? {
          name: 'seccomp',
          domain: 'process',
          status: 'ok',
          detail: 'seccomp filters with errno actions',
        }
      : {
          name: 'seccomp',
          domain: 'process',
          status: 'missing',
          detail:
            'seccomp filters unavailable: namespace, mount and ptrace syscalls cannot be refused',
          fix: 'boot a kernel with CONFIG_SECCOMP_FILTER=y',
        },
    k.noNewPrivs
      ? {
          name: 'no_new_privs',
          domain: 'process',
          status: 'ok',
          detail: 'PR_SET_NO_NEW_PRIVS works',
        }
      : {
          name: 'no_new_privs',
          domain: 'process',
          status: 'missing',
          detail: 'PR_SET_NO_NEW_PRIVS failed: setuid binaries could regain privileges',
          fix: 'use a Linux kernel ≥ 3.5',
        },
    {
      name: 'kernel',
      domain: 'runtime',
      status: 'ok',
      detail: `${k.kernelRelease} (${k.arch})`,
    },
  ];
}

function cgroupChecks(layout: CgroupLayout): HostCheck[] {
  return (['memory', 'pids', 'cpu'] as const).map((name) => {
    const mount = layout.controllers[name];
    return mount === undefined
      ? {
          name: `cgroup ${name}`,
          domain: 'resources',
          status: 'warn',
          detail: `no ${name} controller: sandbox ${name} limits cannot be applied`,
          fix: `enable the ${name} controller (cgroup v2: add it to cgroup.subtree_control; v1: mount the ${name} hierarchy)`,
        }
      : {
          name: `cgroup ${name}`,
          domain: 'resources',
          status: 'ok',
          detail: `cgroup v${mount.version} at ${mount.mount}`,
        };
  });
}
