import { Action, type DecisionCounts, type LogEntry, type Sandbox } from '@openshell/proto';

/**
 * Decisions seen on the log stream since each sandbox's last watch record, by sandbox id.
 * The gateway counts decisions but sends a sandbox on WatchSandboxes only when its phase or
 * policy changes, so the panel adds these to the record's counts to stay live; a new record
 * carries the gateway's own count, so that sandbox's tally restarts from zero.
 */
export type DecisionTally = ReadonlyMap<string, DecisionCounts>;

export const EMPTY_TALLY: DecisionTally = new Map();

/** Counts one log entry if it is a proxy decision. */
export function tallyDecision(tally: DecisionTally, entry: LogEntry): DecisionTally {
  if (entry.event?.$case !== 'decision') return tally;
  const { sandboxId, action } = entry.event.value;
  const current = tally.get(sandboxId) ?? { allowed: 0, denied: 0, audited: 0 };
  const next = new Map(tally);
  next.set(sandboxId, {
    allowed: current.allowed + (action === Action.ACTION_ALLOW ? 1 : 0),
    denied: current.denied + (action === Action.ACTION_DENY ? 1 : 0),
    audited: current.audited + (action === Action.ACTION_AUDIT ? 1 : 0),
  });
  return next;
}

/** Forgets one sandbox's tally (a fresh record arrived) or, without an id, every tally. */
export function clearTally(tally: DecisionTally, sandboxId?: string): DecisionTally {
  if (sandboxId === undefined) return tally.size === 0 ? tally : EMPTY_TALLY;
  if (!tally.has(sandboxId)) return tally;
  const next = new Map(tally);
  next.delete(sandboxId);
  return next;
}

/** The sandbox with its record's counts plus what the log stream added since. */
export function withTally(sandbox: Sandbox, tally: DecisionTally): Sandbox {
  const extra = tally.get(sandbox.id);
  if (extra === undefined) return sandbox;
  const base = sandbox.decisions ?? { allowed: 0, denied: 0, audited: 0 };
  return {
    ...sandbox,
    decisions: {
      allowed: base.allowed + extra.allowed,
      denied: base.denied + extra.denied,
      audited: base.audited + extra.audited,
    },
  };
}
