import { OpenShellError } from '@openshell/policy-schema';
import type { RunBind } from '../compute-driver.js';
import { toBwrapMountArgs, type MountPlan } from './plan-mounts.js';

/**
 * Capabilities the agent keeps (it runs as uid 0 inside): SETUID/SETGID to switch the
 * launcher to the sandbox user, SETPCAP to empty the bounding set before that switch, and
 * KILL to signal the sandbox user's processes (a different uid). Everything else is gone:
 * bubblewrap run by root otherwise hands over every capability, and the prototype's agent
 * used CAP_SYS_ADMIN to remount a read-only bind writable and CAP_NET_ADMIN to flush the
 * netns firewall. Uploads and downloads go through the launcher as the sandbox user, so no
 * DAC_OVERRIDE, CHOWN or FOWNER is needed. bubblewrap also sets no_new_privs, so neither
 * setuid binaries nor root's exec rule can win a capability back.
 */
export const AGENT_CAPABILITIES = ['CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_KILL'] as const;

/** File descriptor numbers the driver hands to the process chain (see start-sandbox.ts). */
export const FD = { token: 3, info: 4, status: 5, args: 6, gate: 7 } as const;

export interface BwrapInputs {
  readonly mounts: MountPlan;
  /** true for `--from`: the root's own /root and /home stay visible (read-only). */
  readonly fromRoot: boolean;
  readonly sandboxDir: string;
  readonly passwdFile: string;
  readonly groupFile: string;
  readonly runBinds: readonly RunBind[];
  readonly env: Readonly<Record<string, string>>;
  readonly command: readonly string[];
  /** The command reads the gate (fd FD.gate) itself instead of bubblewrap holding it back. */
  readonly commandWaitsForGate?: boolean;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RUN_BIND_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * bubblewrap's options, passed through `--args FD` so that host paths and the environment
 * never show in /proc/1/cmdline inside the sandbox. The command itself must follow on the
 * real command line (bubblewrap does not take it from `--args`).
 */
/** Where `public` run binds go: readable by the sandbox user, unlike /run/openshell. */
export const PUBLIC_RUN_DIR = '/run/openshell-public';

export function buildBwrapArgs(inputs: BwrapInputs): string[] {
  const [program] = inputs.command;
  if (program === undefined || !program.startsWith('/')) {
    throw new OpenShellError(
      'ERR_USAGE',
      `sandbox command must start with an absolute path inside the sandbox, got ${JSON.stringify(program ?? '')}`,
    );
  }
  const args = [
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    'sandbox',
    // setsid: without it the sandbox shares the caller's terminal session and can push
    // input into it with TIOCSTI.
    '--new-session',
    '--cap-drop',
    'ALL',
    ...AGENT_CAPABILITIES.flatMap((cap) => ['--cap-add', cap]),
    '--clearenv',
  ];
  for (const [name, value] of Object.entries(inputs.env)) {
    if (!ENV_NAME.test(name)) {
      throw new OpenShellError('ERR_USAGE', `environment variable name "${name}" is not valid`);
    }
    args.push('--setenv', name, value);
  }
  args.push(...toBwrapMountArgs(inputs.mounts.base));
  if (!inputs.fromRoot) args.push('--tmpfs', '/root', '--tmpfs', '/home');
  // Without an explicit 1777 the tmpfs is 0755 root-owned and the sandbox user cannot use it.
  args.push('--tmpfs', '/run', '--perms', '1777', '--tmpfs', '/tmp');
  args.push(...toBwrapMountArgs(inputs.mounts.extra));
  args.push('--bind', inputs.sandboxDir, '/sandbox', '--proc', '/proc', '--dev', '/dev');
  args.push('--perms', '1777', '--tmpfs', '/dev/shm');
  args.push(
    '--ro-bind',
    inputs.passwdFile,
    '/etc/passwd',
    '--ro-bind',
    inputs.groupFile,
    '/etc/group',
  );
  let publicDir = false;
  for (const bind of inputs.runBinds) {
    if (!RUN_BIND_NAME.test(bind.name)) {
      throw new OpenShellError(
        'ERR_USAGE',
        `run bind name "${bind.name}" must match ${String(RUN_BIND_NAME)}`,
      );
    }
    if (bind.public === true) {
      if (!publicDir) args.push('--perms', '0755', '--dir', PUBLIC_RUN_DIR);
      publicDir = true;
      args.push('--ro-bind', bind.source, `${PUBLIC_RUN_DIR}/${bind.name}`);
    } else {
      args.push('--ro-bind', bind.source, `/run/openshell/${bind.name}`);
    }
  }
  args.push('--chdir', '/', '--info-fd', String(FD.info), '--json-status-fd', String(FD.status));
  // The root is built, then bubblewrap waits here until the network is configured, unless the
  // command (the agent) waits on the gate itself and can load meanwhile.
  if (inputs.commandWaitsForGate !== true) args.push('--block-fd', String(FD.gate));
  return args;
}

/** /etc/passwd and /etc/group naming the sandbox's host uid/gid `sandbox`, home /sandbox. */
export function buildIdentityFiles(uid: number, gid: number): { passwd: string; group: string } {
  return {
    passwd: [
      'root:x:0:0:root:/root:/bin/sh',
      `sandbox:x:${String(uid)}:${String(gid)}:OpenShell sandbox:/sandbox:/bin/sh`,
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
      '',
    ].join('\n'),
    group: ['root:x:0:', `sandbox:x:${String(gid)}:`, 'nogroup:x:65534:', ''].join('\n'),
  };
}
