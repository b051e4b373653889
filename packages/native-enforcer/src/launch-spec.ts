/**
 * What the native launcher applies before it execs a sandboxed command. Built from a
 * validated Policy by `buildLaunchSpec`, serialised by `encodeLaunchSpec`.
 */

/**
 * `off` is never produced from a policy; it exists for callers that enforce the
 * filesystem by other means. `best_effort` runs without Landlock (loudly) when the kernel
 * lacks it; `hard_requirement` refuses to start instead.
 */
export type LandlockMode = 'off' | 'best_effort' | 'hard_requirement';

export interface LaunchRlimits {
  /** RLIMIT_NOFILE, soft = hard. */
  readonly nofile?: number;
  /** RLIMIT_NPROC (per uid, counted across all the uid's processes), soft = hard. */
  readonly nproc?: number;
}

export interface LaunchSpec {
  /** Never 0: root is refused here and by the launcher. */
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups; empty = none (the launcher clears the caller's). */
  readonly groups: readonly number[];
  readonly landlock: LandlockMode;
  /** Landlock read-only (read, list, execute) paths; missing ones are skipped with a note. */
  readonly readOnly: readonly string[];
  /** Landlock read-write paths. */
  readonly readWrite: readonly string[];
  /** argv[0] without a slash is looked up in `env.PATH` (default /usr/local/bin:/usr/bin:/bin). */
  readonly argv: readonly string[];
  /** The command's whole environment, in this order; nothing else is inherited. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** RLIMIT_CORE is always 0; these are optional extras. */
  readonly rlimits: LaunchRlimits;
}

/** Exit codes of the launcher itself (anything else is the command's own status). */
export const LAUNCHER_EXIT = {
  /** Set-up failed before execve; nothing ran. stderr has `openshell-launcher: <step>: <error>`. */
  SETUP_FAILED: 125,
  /** The command exists but could not be executed (permission, format). */
  NOT_EXECUTABLE: 126,
  /** The command was not found. */
  NOT_FOUND: 127,
} as const;
