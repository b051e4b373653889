import { Flags } from '@oclif/core';
import { PolicyStatus, type PolicyRevision } from '@openshell/proto';
import { toStatusName } from './revision-view.js';
import type { PolicyWriteResult } from './write-outcome.js';

/** `--wait` and `--timeout`, shared by `policy set` and `policy update`. */
export const waitFlags = {
  wait: Flags.boolean({
    description:
      'Wait until the proxy and the sandbox have loaded the revision (exit 0 loaded, 1 failed, 124 timeout).',
    default: false,
  }),
  timeout: Flags.integer({
    description: 'Seconds --wait waits before giving up (exit 124).',
    default: 60,
    min: 1,
    max: 3600,
  }),
};

// The gateway holds a waiting call open for `timeout`; the RPC deadline gets a margin on top
// so the server's own timeout answer (wait_timed_out) arrives before the client gives up.
const DEADLINE_MARGIN_MS = 10_000;
const UNARY_DEADLINE_MS = 30_000;

/** Request fields and the client deadline for a write with or without --wait. */
export function toWaitFields(flags: { wait: boolean; timeout: number }): {
  request: { wait: boolean; timeoutMs: number };
  deadlineMs: number;
} {
  const timeoutMs = flags.timeout * 1000;
  return {
    request: { wait: flags.wait, timeoutMs },
    deadlineMs: flags.wait ? timeoutMs + DEADLINE_MARGIN_MS : UNARY_DEADLINE_MS,
  };
}

/** Stable `-o json` of a policy write (set/update). */
export function writeResultToJson(result: PolicyWriteResult & { revision: PolicyRevision }) {
  const r = result.revision;
  return {
    version: r.version,
    hash: r.hash,
    // A dry run describes a revision that was never stored, so it has no status.
    status:
      r.status === PolicyStatus.POLICY_STATUS_UNSPECIFIED
        ? null
        : toStatusName(r.status).toLowerCase(),
    created_at: r.createdAtMs > 0 ? new Date(r.createdAtMs).toISOString() : null,
    loaded_at: r.loadedAtMs === undefined ? null : new Date(r.loadedAtMs).toISOString(),
    error: r.error ?? null,
    unchanged: result.unchanged,
    wait_timed_out: result.waitTimedOut,
  };
}
