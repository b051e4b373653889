import { OpenShellError, type Policy, type ProcessPolicy } from '@openshell/policy-schema';
import type { LaunchRlimits, LaunchSpec } from './launch-spec.js';

/** uid/gid the name `sandbox` resolves to when the driver does not choose one (DESIGN §3). */
export const SANDBOX_UID = 10001;
export const SANDBOX_GID = 10001;

/**
 * Device nodes every shell and most runtimes open (`> /dev/null`, `dd if=/dev/zero`,
 * seeding RNGs; `less` and password prompts open /dev/tty, which only ever reaches the
 * process's own controlling terminal). Without them Landlock breaks ordinary commands.
 */
export const BASELINE_READ_ONLY: readonly string[] = Object.freeze(['/dev/urandom', '/dev/random']);
export const BASELINE_READ_WRITE: readonly string[] = Object.freeze([
  '/dev/null',
  '/dev/zero',
  '/dev/tty',
]);

const DEFAULT_WORKDIR = '/sandbox';
const NUMERIC_ID = /^[1-9][0-9]*$/;

export interface ProcessIdentity {
  readonly uid: number;
  readonly gid: number;
}

export interface ResolveIdentityOptions {
  /** uid for `sandbox`; default SANDBOX_UID. Drivers that give each sandbox its own uid pass it here. */
  readonly sandboxUid?: number;
  readonly sandboxGid?: number;
}

function resolveId(field: string, value: string, sandboxId: number): number {
  if (value === 'sandbox') return sandboxId;
  if (value === 'root' || value === '0') {
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `process.${field}: "${value}" is refused — sandboxed processes never run as root; use "sandbox" or a uid in 1..4294967294`,
      { details: { path: `process.${field}`, actual: value } },
    );
  }
  if (NUMERIC_ID.test(value) && Number(value) <= 4294967294) return Number(value);
  throw new OpenShellError(
    'ERR_POLICY_INVALID',
    `process.${field}: "${value}" is not "sandbox" or a numeric id in 1..4294967294`,
    { details: { path: `process.${field}`, actual: value } },
  );
}

/** Resolves `process.run_as_user`/`run_as_group` (`sandbox` or numeric) to ids; root is refused. */
export function resolveProcessIdentity(
  process: ProcessPolicy,
  options: ResolveIdentityOptions = {},
): ProcessIdentity {
  return {
    uid: resolveId('run_as_user', process.run_as_user, options.sandboxUid ?? SANDBOX_UID),
    gid: resolveId('run_as_group', process.run_as_group, options.sandboxGid ?? SANDBOX_GID),
  };
}

export interface BuildLaunchSpecOptions {
  readonly argv: readonly string[];
  /** The command's entire environment (proxy variables, CA paths, placeholders). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Resolved by the caller (see resolveProcessIdentity); must agree with a numeric policy value. */
  readonly uid: number;
  readonly gid: number;
  readonly groups?: readonly number[];
  /** Added to read_write when filesystem_policy.include_workdir is true; default /sandbox. */
  readonly workdir?: string;
  /** Paths the runtime itself needs readable (the CA bundle, the launcher), beyond the policy's. */
  readonly extraReadOnly?: readonly string[];
  readonly extraReadWrite?: readonly string[];
  readonly rlimits?: LaunchRlimits;
}

function unique(paths: readonly string[]): string[] {
  return [...new Set(paths)];
}

/** A numeric run_as_user that the caller resolved differently is a caller bug: refuse. */
function assertIdentityMatches(policy: Policy, uid: number, gid: number): void {
  const expected = resolveProcessIdentity(policy.process, { sandboxUid: uid, sandboxGid: gid });
  if (expected.uid !== uid || expected.gid !== gid) {
    throw new OpenShellError(
      'ERR_INTERNAL',
      `buildLaunchSpec: uid/gid ${uid}/${gid} do not match the policy's process.run_as_user/run_as_group ` +
        `${policy.process.run_as_user}/${policy.process.run_as_group}; resolve them with resolveProcessIdentity`,
    );
  }
}

/**
 * Turns a validated policy plus the command to run into a launch spec: the policy's
 * static sections decide identity and Landlock paths, the caller supplies the command.
 *
 * @example
 * const id = resolveProcessIdentity(policy.process);
 * const spec = buildLaunchSpec(policy, { argv: ['bash'], env: { PATH: '/usr/bin:/bin' }, cwd: '/sandbox', ...id });
 */
export function buildLaunchSpec(policy: Policy, options: BuildLaunchSpecOptions): LaunchSpec {
  assertIdentityMatches(policy, options.uid, options.gid);
  const fs = policy.filesystem_policy;
  const workdir = fs.include_workdir ? [options.workdir ?? DEFAULT_WORKDIR] : [];
  return {
    uid: options.uid,
    gid: options.gid,
    groups: options.groups ?? [],
    landlock: policy.landlock.compatibility,
    readOnly: unique([...fs.read_only, ...(options.extraReadOnly ?? []), ...BASELINE_READ_ONLY]),
    readWrite: unique([
      ...fs.read_write,
      ...workdir,
      ...(options.extraReadWrite ?? []),
      ...BASELINE_READ_WRITE,
    ]),
    argv: options.argv,
    env: options.env,
    cwd: options.cwd,
    rlimits: options.rlimits ?? {},
  };
}
