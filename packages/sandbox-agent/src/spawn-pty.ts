import { spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { Writable, type Readable } from 'node:stream';
import { ReadStream } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { encodeLaunchSpec, type LaunchSpec } from '@openshell/native-enforcer';
import { OpenShellError } from '@openshell/policy-schema';
import type { LaunchedProcess, OutputChannelName, TerminalSizeLike } from './process-launcher.js';
import { signalGroup, trackExit, waitForSpawn } from './track-child.js';

/** The terminal's EOF character (VEOF, ^D in every default termios). */
const VEOF = Buffer.from([0x04]);
const MAX_CELLS = 65535;

/** Absolute path of this package's pty helper (native/build), one level above src/ and dist/. */
export function ptyHelperPath(): string {
  return fileURLToPath(new URL('../native/build/openshell-pty-exec', import.meta.url));
}

export interface SpawnPtyOptions {
  readonly launcher: string;
  readonly helper: string;
  readonly size: TerminalSizeLike;
  readonly onOutput: (channel: OutputChannelName, data: Buffer) => void;
}

function toCells(value: number): string {
  return String(Math.min(Math.max(Math.trunc(value), 0), MAX_CELLS));
}

/** The command's pid, which the helper writes as one line before waiting for it. */
function readPid(pipe: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => {
      text += chunk;
    });
    pipe.once('end', () => {
      const pid = Number(text.trim());
      if (Number.isSafeInteger(pid) && pid > 1) resolve(pid);
      else reject(new Error('the pty helper exited before reporting the command'));
    });
    pipe.once('error', reject);
  });
}

/** Runs `openshell-pty-exec resize` on the master: Node has no TIOCSWINSZ of its own. */
function runResize(helper: string, master: number, size: TerminalSizeLike): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(helper, ['resize', toCells(size.rows), toCells(size.cols)], {
      env: {},
      stdio: [master, 'ignore', 'ignore'],
    });
    // A failed resize leaves the old size; the session goes on (nothing to report it to).
    child.once('error', () => resolve());
    child.once('exit', () => resolve());
  });
}

/**
 * Starts a launch spec on a new pseudo-terminal. The agent opens /dev/ptmx and reads and
 * writes the master itself (no relay copies the bytes); the helper forks the command onto
 * the slave as the controlling terminal of a new session, reports its pid, and exits with
 * its status. `pid` is the command's; signals go to its process group.
 */
export async function spawnPty(
  spec: LaunchSpec,
  options: SpawnPtyOptions,
): Promise<LaunchedProcess> {
  const payload = encodeLaunchSpec(spec);
  let master: number;
  try {
    master = openSync('/dev/ptmx', constants.O_RDWR | constants.O_NOCTTY);
  } catch (cause) {
    throw new OpenShellError(
      'ERR_HOST_UNSUPPORTED',
      `cannot allocate a pseudo-terminal (/dev/ptmx): ${(cause as Error).message}; mount devpts or run without a tty`,
      { cause },
    );
  }
  const child = spawn(
    options.helper,
    [
      'exec',
      options.launcher,
      toCells(options.size.rows),
      toCells(options.size.cols),
      String(spec.uid),
    ],
    { env: {}, cwd: '/', stdio: [master, 'pipe', 'pipe', 'pipe'] },
  );
  const specPipe = child.stdio[3];
  const { stdout: pidPipe, stderr: helperErrors } = child;
  if (!(specPipe instanceof Writable) || helperErrors === null || pidPipe === null) {
    child.kill('SIGKILL');
    closeSync(master);
    throw new OpenShellError('ERR_INTERNAL', 'spawnPty: the pty helper did not get its pipes');
  }
  specPipe.on('error', function ignoreSpecPipeError() {
    // EPIPE when the helper or launcher died before reading the spec; the exit status and
    // the stderr line say why, and nothing was executed on a partial spec.
  });
  specPipe.end(payload);
  // Only the helper's own failures (before the slave replaces stderr) arrive here.
  let helperMessage = '';
  helperErrors.on('data', (data: Buffer) => {
    helperMessage += data.toString('utf8');
    options.onOutput('stderr', data);
  });
  // Node closes the master when its read side fails (EIO once every slave fd is closed);
  // the helper keeps its own reference until the command has exited, so that close never
  // hangs up a terminal whose program is still running (see native/src/pty-exec.c).
  const terminal = new ReadStream(master);
  terminal.on('data', (data: Buffer) => options.onOutput('stdout', data));
  let running = true;
  const exited = trackExit(child, [terminal, helperErrors, pidPipe], () => {
    running = false;
  });
  let pid: number;
  try {
    await waitForSpawn(child, 'the pty helper');
    pid = await readPid(pidPipe);
  } catch (error) {
    terminal.destroy();
    const reason = helperMessage.trim() || (error as Error).message;
    throw new OpenShellError(
      'ERR_ENFORCER_FAILED',
      `could not start a terminal session: ${reason}`,
      {
        cause: error,
      },
    );
  }
  // Input and resizes go through one queue: a resize runs in a helper process, and bytes
  // typed after it must reach the program after the new size (e.g. `stty size`).
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (step: () => void | Promise<void>): void => {
    queue = queue.then(step).catch(function ignoreTerminalGone() {
      // The terminal closed under a queued write: the process is gone, its exit reports it.
    });
  };
  void exited.then(() => terminal.destroy());
  return {
    pid,
    tty: true,
    write(data) {
      enqueue(() => {
        if (running && !terminal.destroyed) terminal.write(data);
      });
    },
    endInput() {
      enqueue(() => {
        if (running && !terminal.destroyed) terminal.write(VEOF);
      });
    },
    resize(size) {
      enqueue(() =>
        running && !terminal.destroyed ? runResize(options.helper, master, size) : undefined,
      );
    },
    signal(signal) {
      if (running) signalGroup(pid, signal);
    },
    exited,
  };
}
