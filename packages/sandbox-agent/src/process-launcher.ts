/**
 * How the agent starts processes. Sessions only see this interface; the one real
 * implementation (createEnforcedLauncher) sends every process through the native launcher,
 * which switches to the sandbox uid and applies Landlock and seccomp before execve.
 */

export type OutputChannelName = 'stdout' | 'stderr';

export interface TerminalSizeLike {
  readonly rows: number;
  readonly cols: number;
}

export interface LaunchRequest {
  readonly argv: readonly string[];
  /** The process's entire environment; nothing of the agent's is inherited. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Present = run on a new pseudo-terminal of this size (stdout and stderr merge). */
  readonly tty?: TerminalSizeLike | undefined;
  /** `user`/`group` of a ProcessSpec; empty = the policy's. Never widens the policy. */
  readonly user?: string;
  readonly group?: string;
  /** Receives output as it arrives; registered before the process can produce any. */
  readonly onOutput: (channel: OutputChannelName, data: Buffer) => void;
}

/** How a process ended: exactly one of code/signal is non-null. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface LaunchedProcess {
  readonly pid: number;
  readonly tty: boolean;
  /** Stdin bytes (pipe) or terminal input (pty). Dropped after the process ended. */
  write(data: Buffer): void;
  /** Closes stdin (pipe) or types the terminal's EOF character (pty). */
  endInput(): void;
  /** Applies a new window size in order with input; a no-op without a pty. */
  resize(size: TerminalSizeLike): void;
  /** Signals the process group (the process and what it started, unless they moved out). */
  signal(signal: NodeJS.Signals): void;
  /** Resolves once the process exited and its output drained (bounded: see DRAIN_GRACE_MS). */
  readonly exited: Promise<ProcessExit>;
}

export interface ProcessLauncher {
  /** Starts a process; rejects with an OpenShellError when it could not be started. */
  spawn(request: LaunchRequest): Promise<LaunchedProcess>;
  /**
   * Executables of the launcher's own helpers that stay between the agent and a command
   * (the pty helper waits as its parent); identity answers do not list them as ancestors.
   */
  readonly internalExecutables?: readonly string[];
}
