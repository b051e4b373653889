import type { Policy } from '@openshell/policy-schema';

/** The enforcement layers `doctor --prove` names; each attempt reports the one that stopped it. */
export type ProveLayer =
  | 'landlock'
  | 'seccomp'
  | 'no_new_privs'
  | 'namespaces/mount'
  | 'namespaces/pid'
  | 'netns+nftables'
  | 'proxy L4 policy'
  | 'proxy SSRF'
  | 'proxy L7'
  | 'proxy credentials'
  | 'uid/capabilities'
  | 'cgroup pids'
  | 'cgroup memory'
  | 'rlimit core';

/**
 * blocked: the attempt failed and its positive control passed. not_blocked: the attempt
 * succeeded. error: the proof is void (a control failed, or the output was unreadable).
 * skipped: nothing to attack under this policy (e.g. no L7 rules).
 */
export type AttemptResult = 'blocked' | 'not_blocked' | 'error' | 'skipped';

/** What one attempt concluded (`-o json` item; the field names are stable). */
export interface AttemptOutcome {
  readonly id: string;
  readonly category: string;
  readonly attempt: string;
  readonly result: AttemptResult;
  /** The layer that stopped it (blocked), or the one that should have (otherwise); null when unknown. */
  readonly layer: ProveLayer | null;
  readonly detail: string;
}

export interface ProveSummary {
  readonly total: number;
  readonly blocked: number;
  readonly notBlocked: number;
  readonly errors: number;
  readonly skipped: number;
}

export interface ProveReport {
  /** The throwaway sandbox's name (already deleted when the report is shown). */
  readonly sandbox: string;
  /** `default` or the --policy file name. */
  readonly policy: string;
  readonly attempts: readonly AttemptOutcome[];
  readonly summary: ProveSummary;
  readonly durationMs: number;
}

/** The policy the proof runs under: the parsed form (to pick targets) and what the gateway gets. */
export interface PolicyUnderTest {
  readonly label: string;
  readonly policy: Policy;
  /** Absent = let the gateway apply its default policy. */
  readonly input?: { readonly yaml: string; readonly fileName: string };
}
