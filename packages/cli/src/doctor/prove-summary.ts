import type { AttemptOutcome, ProveReport, ProveSummary } from './prove-types.js';

/** Counts outcomes by result. */
export function summarizeAttempts(attempts: readonly AttemptOutcome[]): ProveSummary {
  const count = (result: AttemptOutcome['result']): number =>
    attempts.filter((a) => a.result === result).length;
  return {
    total: attempts.length,
    blocked: count('blocked'),
    notBlocked: count('not_blocked'),
    errors: count('error'),
    skipped: count('skipped'),
  };
}

/**
 * 1 when anything got through or a proof is void (a CI gate must not pass on a proof that
 * did not run), 0 when every attempt was blocked or had nothing to attack.
 */
export function proveExitCode(report: Pick<ProveReport, 'summary'>): 0 | 1 {
  return report.summary.notBlocked > 0 || report.summary.errors > 0 ? 1 : 0;
}
