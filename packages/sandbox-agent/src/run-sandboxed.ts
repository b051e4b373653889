import type { ProcessExit, ProcessLauncher } from './process-launcher.js';
import { buildSandboxEnv, type SandboxConfig } from './sandbox-env.js';

/** stderr kept for an error message; the head says what failed. */
const STDERR_LIMIT_BYTES = 4096;

export interface SandboxedResult {
  readonly exit: ProcessExit;
  readonly stderr: string;
}

/** The sandbox environment with no spec variables: what the agent's own helpers run with. */
export function buildHelperEnv(config: SandboxConfig): Record<string, string> {
  return buildSandboxEnv(config, {}, { tty: false });
}

/**
 * Runs a short helper command (mkdir, tar) as the sandbox user through the launcher and
 * waits for it. Doing file work this way means the agent never writes into the sandbox as
 * root: the kernel checks every path against the sandbox user and its Landlock rules.
 */
export async function runSandboxed(
  launcher: ProcessLauncher,
  config: SandboxConfig,
  argv: readonly string[],
  cwd: string,
): Promise<SandboxedResult> {
  let stderr = '';
  const proc = await launcher.spawn({
    argv,
    env: buildHelperEnv(config),
    cwd,
    onOutput(channel, data) {
      if (channel === 'stderr' && stderr.length < STDERR_LIMIT_BYTES)
        stderr += data.toString('utf8');
    },
  });
  proc.endInput();
  const exit = await proc.exited;
  return { exit, stderr: stderr.slice(0, STDERR_LIMIT_BYTES).trim() };
}
