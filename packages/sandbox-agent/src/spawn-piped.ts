import { spawnEnforced, type LaunchSpec } from '@openshell/native-enforcer';
import { OpenShellError } from '@openshell/policy-schema';
import type { LaunchedProcess, OutputChannelName } from './process-launcher.js';
import { signalGroup, trackExit, waitForSpawn } from './track-child.js';

export interface SpawnPipedOptions {
  readonly launcher: string;
  readonly onOutput: (channel: OutputChannelName, data: Buffer) => void;
}

/** Starts a launch spec with stdin/stdout/stderr on pipes, in a new session and group. */
export async function spawnPiped(
  spec: LaunchSpec,
  options: SpawnPipedOptions,
): Promise<LaunchedProcess> {
  // detached = setsid() in the child: its own process group (signals reach what it starts)
  // and no controlling terminal it could inject keystrokes into.
  const child = spawnEnforced(spec, {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    launcher: options.launcher,
  });
  const { stdin, stdout, stderr } = child;
  if (stdin === null || stdout === null || stderr === null) {
    child.kill('SIGKILL');
    throw new OpenShellError('ERR_INTERNAL', 'spawnPiped: the launcher did not get stdio pipes');
  }
  let running = true;
  const exited = trackExit(child, [stdout, stderr], () => {
    running = false;
  });
  stdout.on('data', (data: Buffer) => options.onOutput('stdout', data));
  stderr.on('data', (data: Buffer) => options.onOutput('stderr', data));
  stdin.on('error', function ignoreStdinError() {
    // EPIPE once the command stopped reading or exited: its exit status says what happened.
  });
  await waitForSpawn(child, spec.argv[0] ?? 'the command');
  const pid = child.pid;
  if (pid === undefined) throw new OpenShellError('ERR_INTERNAL', 'spawned child has no pid');
  return {
    pid,
    tty: false,
    write(data) {
      if (running && stdin.writable) stdin.write(data);
    },
    endInput() {
      if (stdin.writable) stdin.end();
    },
    resize() {
      // No terminal, nothing to size.
    },
    signal(signal) {
      if (running) signalGroup(pid, signal);
    },
    exited,
  };
}
