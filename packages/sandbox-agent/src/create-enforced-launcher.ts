import { realpathSync } from 'node:fs';
import {
  buildLaunchSpec,
  launcherPath,
  resolveProcessIdentity,
  type ProcessIdentity,
} from '@openshell/native-enforcer';
import { OpenShellError, type Policy } from '@openshell/policy-schema';
import type { LaunchRequest, LaunchedProcess, ProcessLauncher } from './process-launcher.js';
import { spawnPiped } from './spawn-piped.js';
import { ptyHelperPath, spawnPty } from './spawn-pty.js';

export interface EnforcedLauncherOptions {
  /** The policy in force; its static sections decide uid, gid and Landlock paths. */
  readonly policy: () => Policy | undefined;
  /** What `sandbox` means on this host (DESIGN §3 step 7: one uid per sandbox). */
  readonly sandboxUid: number;
  readonly sandboxGid: number;
  /** The sandbox's working directory, added to read_write when include_workdir is set. */
  readonly workdir: string;
  /** Paths every process must read beyond the policy's (the CA bundle). */
  readonly extraReadOnly?: readonly string[];
  readonly launcher?: string;
  readonly ptyHelper?: string;
}

/** /proc/<pid>/exe shows the resolved path; compare against that. */
function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // Not built yet: spawning would fail with a clear error anyway.
    return path;
  }
}

function resolveRequestedIdentity(
  policy: Policy,
  request: LaunchRequest,
  options: EnforcedLauncherOptions,
): ProcessIdentity {
  const ids = { sandboxUid: options.sandboxUid, sandboxGid: options.sandboxGid };
  const fromPolicy = resolveProcessIdentity(policy.process, ids);
  const user = request.user ?? '';
  const group = request.group ?? '';
  if (user === '' && group === '') return fromPolicy;
  // A spec may name the policy's identity but never another one: the policy is the only
  // thing that decides who a sandboxed process runs as.
  const asked = resolveProcessIdentity(
    {
      run_as_user: user === '' ? policy.process.run_as_user : user,
      run_as_group: group === '' ? policy.process.run_as_group : group,
    },
    ids,
  );
  if (asked.uid !== fromPolicy.uid || asked.gid !== fromPolicy.gid) {
    throw new OpenShellError(
      'ERR_POLICY_DENIED',
      `process user ${JSON.stringify(user)}/group ${JSON.stringify(group)} differs from the policy's ` +
        `process.run_as_user/run_as_group (${policy.process.run_as_user}/${policy.process.run_as_group}); ` +
        'leave user and group empty or change the policy',
      { details: { user, group } },
    );
  }
  return fromPolicy;
}

/**
 * A ProcessLauncher that starts every process through the native launcher as the policy's
 * user, with the policy's Landlock paths and the seccomp filter; with a pty when asked.
 *
 * @example
 * const launcher = createEnforcedLauncher({ policy: () => state.policy, sandboxUid: 10001, sandboxGid: 10001, workdir: '/sandbox' });
 * const proc = await launcher.spawn({ argv: ['id'], env: {}, cwd: '/sandbox', onOutput: print });
 */
export function createEnforcedLauncher(options: EnforcedLauncherOptions): ProcessLauncher {
  const launcher = options.launcher ?? launcherPath();
  const helper = options.ptyHelper ?? ptyHelperPath();
  return {
    internalExecutables: [realpathOrSelf(helper)],
    async spawn(request): Promise<LaunchedProcess> {
      const policy = options.policy();
      if (policy === undefined) {
        throw new OpenShellError(
          'ERR_SANDBOX_NOT_READY',
          'no policy has been received yet, so nothing can be started; retry once the sandbox is Ready',
        );
      }
      const identity = resolveRequestedIdentity(policy, request, options);
      const spec = buildLaunchSpec(policy, {
        argv: request.argv,
        env: request.env,
        cwd: request.cwd,
        uid: identity.uid,
        gid: identity.gid,
        workdir: options.workdir,
        extraReadOnly: options.extraReadOnly ?? [],
      });
      if (request.tty !== undefined) {
        return spawnPty(spec, { launcher, helper, size: request.tty, onOutput: request.onOutput });
      }
      return spawnPiped(spec, { launcher, onOutput: request.onOutput });
    },
  };
}
