import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { Writable } from 'node:stream';
import { spawnEnforced, launcherPath, type LaunchSpec, type StdioEntry } from '../../src/index.js';

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const RUN_TIMEOUT_MS = 15_000;

/** Collects a child's output; kills it (and reports so) if it outlives the timeout. */
export function collect(child: ChildProcess): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs a spec through spawnEnforced (the public path). */
export function runLaunched(spec: LaunchSpec, stdin: StdioEntry = 'ignore'): Promise<RunResult> {
  return collect(spawnEnforced(spec, { stdio: [stdin, 'pipe', 'pipe'] }));
}

export interface RawLaunchOptions {
  /** Spec bytes for fd 3; null leaves fd 3 closed. */
  readonly payload: Buffer | null;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: StdioEntry;
  /** fds placed at 4, 5, ... in the launcher (inherited without CLOEXEC, as a leak would be). */
  readonly extraFds?: readonly number[];
  /** Argv that execs the launcher path appended to it (a wrapper that tampers with stdio). */
  readonly wrapper?: readonly string[];
}

/** Starts the launcher binary directly, to feed it malformed specs or leaked fds. */
export function runRawLauncher(options: RawLaunchOptions): Promise<RunResult> {
  const stdio: StdioOptions = [
    options.stdin ?? 'ignore',
    'pipe',
    'pipe',
    options.payload === null ? 'ignore' : 'pipe',
    ...(options.extraFds ?? []),
  ];
  const [command = launcherPath(), ...leading] = [...(options.wrapper ?? []), launcherPath()];
  const child = spawn(command, [...leading, ...(options.args ?? [])], {
    env: { ...options.env },
    stdio,
  });
  const specPipe = child.stdio[3];
  if (options.payload !== null && specPipe instanceof Writable) {
    // EPIPE is expected when the launcher refuses the spec before reading all of it.
    specPipe.on('error', () => undefined);
    specPipe.end(options.payload);
  }
  return collect(child);
}

export interface DirectRunOptions {
  /** Run as uid/gid 10001 via setpriv, without the launcher (no seccomp, no Landlock). */
  readonly asSandboxUser?: boolean;
  readonly stdin?: StdioEntry;
  /** fds placed at 4, 5, ... (fd 3 stays closed), the layout runRawLauncher gives the launcher. */
  readonly extraFds?: readonly number[];
}

/** Runs a command without the launcher: the positive control for each denial. */
export function runDirect(
  argv: readonly string[],
  options: DirectRunOptions = {},
): Promise<RunResult> {
  const full = options.asSandboxUser
    ? ['setpriv', '--reuid=10001', '--regid=10001', '--clear-groups', '--', ...argv]
    : [...argv];
  const [command, ...args] = full;
  if (command === undefined) throw new Error('runDirect: empty argv');
  const extra = options.extraFds ?? [];
  const stdio: StdioOptions = [
    options.stdin ?? 'ignore',
    'pipe',
    'pipe',
    ...(extra.length > 0 ? (['ignore', ...extra] as const) : []),
  ];
  return collect(spawn(command, args, { stdio, env: { PATH: '/usr/bin:/bin' } }));
}
