import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { Writable, type Stream } from 'node:stream';
import { OpenShellError } from '@openshell/policy-schema';
import { encodeLaunchSpec } from './encode-launch-spec.js';
import type { LaunchSpec } from './launch-spec.js';
import { launcherPath } from './launcher-path.js';

export type StdioEntry = 'pipe' | 'inherit' | 'ignore' | number | Stream;

export interface SpawnEnforcedOptions {
  /** fds 0-2 of the command; default all 'pipe'. fd 3 carries the spec and is taken. */
  readonly stdio?: readonly [StdioEntry, StdioEntry, StdioEntry];
  /** Launcher to run; default launcherPath() (inside a sandbox: its read-only bind). */
  readonly launcher?: string;
  readonly detached?: boolean;
}

/**
 * Starts `spec.argv` through the launcher: the spec goes down a pipe on fd 3 (never
 * argv or the environment, which other processes can read), and the launcher itself gets
 * an empty environment, so nothing of the caller's leaks into the command.
 * Exit codes 125-127 with an `openshell-launcher:` stderr line are the launcher's own
 * (see LAUNCHER_EXIT).
 *
 * @example
 * const child = spawnEnforced(spec, { stdio: ['ignore', 'pipe', 'inherit'] });
 */
export function spawnEnforced(spec: LaunchSpec, options: SpawnEnforcedOptions = {}): ChildProcess {
  const payload = encodeLaunchSpec(spec);
  const launcher = options.launcher ?? launcherPath();
  try {
    accessSync(launcher, constants.X_OK);
  } catch (cause) {
    throw new OpenShellError(
      'ERR_ENFORCER_FAILED',
      `launcher ${launcher} is missing or not executable; build it with \`pnpm --filter @openshell/native-enforcer build\``,
      { cause },
    );
  }
  const [stdin = 'pipe', stdout = 'pipe', stderr = 'pipe'] = options.stdio ?? [];
  const child = spawn(launcher, [], {
    env: {},
    cwd: '/',
    stdio: [stdin, stdout, stderr, 'pipe'],
    detached: options.detached ?? false,
  });
  const specPipe = child.stdio[3];
  if (!(specPipe instanceof Writable)) {
    child.kill('SIGKILL');
    throw new OpenShellError(
      'ERR_INTERNAL',
      'spawnEnforced: fd 3 of the launcher is not a writable pipe',
    );
  }
  specPipe.on('error', function ignoreSpecPipeError() {
    // EPIPE when the launcher exits before reading the whole spec; its exit status and
    // stderr line report the actual failure, and it never execs on a partial spec.
  });
  specPipe.end(payload);
  return child;
}
