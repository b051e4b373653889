import { OpenShellError } from '@openshell/policy-schema';
import type { LaunchSpec } from './launch-spec.js';

// Limits mirrored from native/src/spec.h; checked here so a bad spec fails with a
// catalogued error in the caller instead of a launcher exit code.
const SPEC_MAX_BYTES = 4 * 1024 * 1024;
const SPEC_MAX_PATHS = 1024;
const SPEC_MAX_GROUPS = 1024;
const MAX_ID = 4294967294;
const MAX_RLIMIT = 2 ** 30;
const ENV_NAME = /^[^=\0]+$/;

function assertId(what: string, value: number): void {
  if (value === 0) {
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `${what} 0 (root) is refused: sandboxed processes never run as root; set process.run_as_user/run_as_group to "sandbox" or a uid in 1..${MAX_ID}`,
      { details: { field: what, value } },
    );
  }
  if (!Number.isInteger(value) || value < 1 || value > MAX_ID) {
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `${what} ${value} is out of range: use an integer in 1..${MAX_ID}`,
      { details: { field: what, value } },
    );
  }
}

function assertNoNul(what: string, value: string): void {
  if (value.includes('\0')) {
    throw new OpenShellError(
      'ERR_USAGE',
      `${what} contains a NUL byte, which cannot be passed to execve`,
      {
        details: { field: what },
      },
    );
  }
}

function assertPaths(what: string, paths: readonly string[]): void {
  if (paths.length > SPEC_MAX_PATHS) {
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `${what} lists ${paths.length} paths; at most ${SPEC_MAX_PATHS}`,
    );
  }
  for (const path of paths) {
    if (!path.startsWith('/') || path.includes('\0')) {
      throw new OpenShellError(
        'ERR_POLICY_INVALID',
        `${what} path ${JSON.stringify(path)} must be absolute`,
        {
          details: { field: what, value: path },
        },
      );
    }
  }
}

function assertRlimit(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > MAX_RLIMIT)) {
    throw new OpenShellError(
      'ERR_USAGE',
      `rlimit ${name}=${value} must be an integer in 1..${MAX_RLIMIT}`,
    );
  }
}

/** Checks everything the launcher would refuse, so callers get an OpenShellError instead. */
function validateLaunchSpec(spec: LaunchSpec): void {
  assertId('uid', spec.uid);
  assertId('gid', spec.gid);
  if (spec.groups.length > SPEC_MAX_GROUPS) {
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `${spec.groups.length} supplementary groups; at most ${SPEC_MAX_GROUPS}`,
    );
  }
  for (const group of spec.groups) assertId('supplementary group', group);
  assertPaths('read-only', spec.readOnly);
  assertPaths('read-write', spec.readWrite);
  const [command] = spec.argv;
  if (command === undefined || command === '') {
    throw new OpenShellError(
      'ERR_USAGE',
      'no command given: argv must have a non-empty first element',
    );
  }
  spec.argv.forEach((arg, i) => assertNoNul(`argv[${i}]`, arg));
  for (const [name, value] of Object.entries(spec.env)) {
    if (!ENV_NAME.test(name)) {
      throw new OpenShellError(
        'ERR_USAGE',
        `environment variable name ${JSON.stringify(name)} is invalid (empty, or contains "=" or NUL)`,
      );
    }
    assertNoNul(`env ${name}`, value);
  }
  if (!spec.cwd.startsWith('/')) {
    throw new OpenShellError(
      'ERR_USAGE',
      `working directory ${JSON.stringify(spec.cwd)} must be an absolute path`,
    );
  }
  assertNoNul('cwd', spec.cwd);
  assertRlimit('nofile', spec.rlimits.nofile);
  assertRlimit('nproc', spec.rlimits.nproc);
}

/**
 * Serialises a spec into the launcher's wire format (native/src/spec.h): NUL-terminated
 * `key=value` records between `openshell-launch-spec=1` and `end=1`.
 */
export function encodeLaunchSpec(spec: LaunchSpec): Buffer {
  validateLaunchSpec(spec);
  const records: string[] = [
    'openshell-launch-spec=1',
    `uid=${spec.uid}`,
    `gid=${spec.gid}`,
    ...spec.groups.map((g) => `group=${g}`),
    `landlock=${spec.landlock}`,
    ...spec.readOnly.map((p) => `ro=${p}`),
    ...spec.readWrite.map((p) => `rw=${p}`),
    ...spec.argv.map((a) => `arg=${a}`),
    ...Object.entries(spec.env).map(([name, value]) => `env=${name}=${value}`),
    `cwd=${spec.cwd}`,
  ];
  if (spec.rlimits.nofile !== undefined) records.push(`rlimit_nofile=${spec.rlimits.nofile}`);
  if (spec.rlimits.nproc !== undefined) records.push(`rlimit_nproc=${spec.rlimits.nproc}`);
  records.push('end=1');
  const payload = Buffer.from(records.join('\0') + '\0', 'utf8');
  if (payload.length > SPEC_MAX_BYTES) {
    throw new OpenShellError(
      'ERR_USAGE',
      `launch spec is ${payload.length} bytes (argv + environment + paths); the limit is ${SPEC_MAX_BYTES}`,
    );
  }
  return payload;
}
