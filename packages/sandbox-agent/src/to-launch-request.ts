import type { ProcessSpec } from '@openshell/proto';
import type { LaunchRequest, OutputChannelName, TerminalSizeLike } from './process-launcher.js';
import { buildSandboxEnv, type SandboxConfig } from './sandbox-env.js';

/** A terminal's size when the client sent none (or zeros). */
export const DEFAULT_TERMINAL_SIZE: TerminalSizeLike = { rows: 24, cols: 80 };

/** The size a client asked for, or the default when it is absent or degenerate. */
export function toTerminalSize(size: { rows: number; cols: number } | undefined): TerminalSizeLike {
  if (size === undefined || size.rows === 0 || size.cols === 0) return DEFAULT_TERMINAL_SIZE;
  return { rows: size.rows, cols: size.cols };
}

/**
 * Turns a ProcessSpec from the wire into a launch request: the sandbox's environment, cwd
 * defaulting to the sandbox home, a terminal when `tty` (or `forceTty`, for connect) is set.
 */
export function toLaunchRequest(
  spec: ProcessSpec,
  config: SandboxConfig,
  onOutput: (channel: OutputChannelName, data: Buffer) => void,
  options: { readonly forceTty?: boolean; readonly argv?: readonly string[] } = {},
): LaunchRequest {
  const tty = spec.tty || options.forceTty === true;
  return {
    argv: options.argv ?? spec.argv,
    env: buildSandboxEnv(config, spec.env, { tty }),
    cwd: spec.workdir === '' ? config.home : spec.workdir,
    tty: tty ? toTerminalSize(spec.size) : undefined,
    user: spec.user,
    group: spec.group,
    onOutput,
  };
}
