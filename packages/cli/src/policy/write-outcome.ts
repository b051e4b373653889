import { PolicyStatus, type PolicyRevision } from '@openshell/proto';
import { requireRevision } from './revision-view.js';

/** What SetPolicy/UpdatePolicy answered, in the fields both responses share. */
export interface PolicyWriteResult {
  readonly revision?: PolicyRevision | undefined;
  readonly unchanged: boolean;
  readonly waitTimedOut: boolean;
}

export interface WriteOutcome {
  /** The line for the user; `stream` says where (failures go to stderr). */
  readonly message: string;
  readonly stream: 'stdout' | 'stderr';
  /** REFERENCE.md: 0 loaded (or not waited for), 1 failed, 124 `--wait` timed out. */
  readonly exitCode: 0 | 1 | 124;
}

/** Turns a policy write's response into the user's line and exit code. */
export function describeWriteOutcome(
  result: PolicyWriteResult,
  options: { readonly wait: boolean; readonly timeoutSeconds: number; readonly sandbox: string },
): WriteOutcome {
  const revision = requireRevision(result.revision);
  const v = revision.version;
  if (result.unchanged) {
    return { message: `Policy unchanged (version ${v})`, stream: 'stdout', exitCode: 0 };
  }
  switch (revision.status) {
    case PolicyStatus.POLICY_STATUS_LOADED:
      return { message: `✓ Policy version ${v} loaded`, stream: 'stdout', exitCode: 0 };
    case PolicyStatus.POLICY_STATUS_FAILED:
      return {
        message: `✗ Policy version ${v} failed to load: ${revision.error ?? 'no reason given'}\nThe previous policy stays in force. See 'openshell logs ${options.sandbox} --source sandbox --source proxy'.`,
        stream: 'stderr',
        exitCode: 1,
      };
    case PolicyStatus.POLICY_STATUS_SUPERSEDED:
      // OpenShell exits 0 here too: a newer revision replaced this one, which is what the
      // caller wanted to happen eventually.
      return {
        message: `Policy version ${v} was superseded by a newer revision before it loaded; see 'openshell policy list ${options.sandbox}'`,
        stream: 'stdout',
        exitCode: 0,
      };
    case PolicyStatus.POLICY_STATUS_PENDING:
    case PolicyStatus.POLICY_STATUS_UNSPECIFIED:
    case PolicyStatus.UNRECOGNIZED:
      break;
  }
  if (!options.wait) {
    return {
      message: `Policy version ${v} submitted (pending); pass --wait to wait until it loads, or check 'openshell policy list ${options.sandbox}'`,
      stream: 'stdout',
      exitCode: 0,
    };
  }
  return {
    message: `Timed out after ${options.timeoutSeconds}s waiting for policy version ${v} to load (${describePending(revision)}). It may still load; check 'openshell policy list ${options.sandbox}'.`,
    stream: 'stderr',
    exitCode: 124,
  };
}

/** Which acknowledgement a pending revision still lacks (DESIGN §5: proxy and agent both ack). */
function describePending(revision: PolicyRevision): string {
  const missing = [
    revision.proxyAckedAtMs === undefined ? 'the proxy' : undefined,
    revision.agentAckedAtMs === undefined ? 'the sandbox agent' : undefined,
  ].filter((who): who is string => who !== undefined);
  return missing.length === 0 ? 'still pending' : `waiting for ${missing.join(' and ')}`;
}
