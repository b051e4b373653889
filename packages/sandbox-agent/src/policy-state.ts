import {
  diffStatic,
  formatDiagnostic,
  hashPolicy,
  parsePolicy,
  type Policy,
} from '@openshell/policy-schema';
import type { PolicyAck, PolicyPush } from '@openshell/proto';

/** How many diagnostics an ack carries; the gateway validated the text already. */
const MAX_ACK_DIAGNOSTICS = 5;

export interface PolicyState {
  /** The policy in force, or undefined before the first accepted push. */
  current(): Policy | undefined;
  /** Version of the policy in force (for hello on reconnect). */
  version(): number | undefined;
  /**
   * Checks and adopts a pushed revision, returning the ack to send. The agent enforces only
   * the static sections (at process start), so a revision changing them is refused and the
   * last good policy stays in force; dynamic sections are the proxy's.
   */
  apply(push: PolicyPush, sandboxId: string): PolicyAck;
}

/**
 * Holds the sandbox's policy across pushes.
 *
 * @example
 * const state = createPolicyState();
 * const ack = state.apply({ version: 1, hash: '', yaml: 'version: 1\n' }, 'sb-1');
 */
export function createPolicyState(): PolicyState {
  let policy: Policy | undefined;
  let version: number | undefined;

  function refuse(push: PolicyPush, sandboxId: string, error: string): PolicyAck {
    return { sandboxId, version: push.version, hash: push.hash, ok: false, error };
  }

  return {
    current: () => policy,
    version: () => version,
    apply(push, sandboxId) {
      if (version !== undefined && push.version < version) {
        return refuse(
          push,
          sandboxId,
          `policy version ${push.version} is older than the version in force (${version}); push the latest revision`,
        );
      }
      const parsed = parsePolicy(push.yaml, { file: `policy v${push.version}` });
      if (parsed.policy === undefined) {
        const shown = parsed.diagnostics.slice(0, MAX_ACK_DIAGNOSTICS).map(formatDiagnostic);
        return refuse(push, sandboxId, `policy is invalid:\n${shown.join('\n')}`);
      }
      const actualHash = hashPolicy(parsed.policy);
      // The hash is the gateway's SHA-256 of the canonical form; a mismatch means the body
      // was altered or the two sides disagree on canonicalisation — either way, not this one.
      if (push.hash !== '' && push.hash !== actualHash) {
        return refuse(
          push,
          sandboxId,
          `policy hash ${push.hash} does not match the pushed body (${actualHash}); the push was corrupted or canonicalised differently`,
        );
      }
      if (policy !== undefined) {
        const changes = diffStatic(policy, parsed.policy);
        if (changes.length > 0) {
          return refuse(push, sandboxId, changes.map((change) => change.message).join('\n'));
        }
      }
      policy = parsed.policy;
      version = push.version;
      return { sandboxId, version: push.version, hash: actualHash, ok: true };
    },
  };
}
