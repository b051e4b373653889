import { renderTable } from '../render/render-table.js';
import type { AttemptResult, ProveReport } from './prove-types.js';

const LABEL: Record<AttemptResult, string> = {
  blocked: 'blocked',
  not_blocked: 'NOT BLOCKED',
  error: 'error',
  skipped: 'skipped',
};

/** The summary line: counts, the policy proven and how long it took. */
export function formatProveSummary(report: ProveReport): string {
  const s = report.summary;
  const verdict =
    s.notBlocked > 0
      ? `${String(s.notBlocked)} NOT BLOCKED`
      : s.errors > 0
        ? 'proof incomplete'
        : 'every attempt was blocked';
  return (
    `${verdict}: ${String(s.total)} attempts, ${String(s.blocked)} blocked, ` +
    `${String(s.notBlocked)} not blocked, ${String(s.errors)} errors, ${String(s.skipped)} skipped ` +
    `(policy: ${report.policy}, ${(report.durationMs / 1000).toFixed(1)} s)`
  );
}

/** The table `doctor --prove` prints: one line per attempt, then the summary line. */
export function renderProveTable(report: ProveReport): string {
  const rows = report.attempts.map((a) => [
    LABEL[a.result],
    a.attempt,
    a.result === 'blocked' ? (a.layer ?? '-') : a.layer === null ? '-' : `(${a.layer})`,
    a.detail,
  ]);
  return `${renderTable(['RESULT', 'ATTEMPT', 'LAYER', 'DETAIL'], rows)}\n${formatProveSummary(report)}\n`;
}

/** The `-o json|yaml` document; its field names are stable for CI. */
export function toProveDocument(report: ProveReport): object {
  return {
    sandbox: report.sandbox,
    policy: report.policy,
    attempts: report.attempts.map((a) => ({
      id: a.id,
      // REFERENCE.md's documented key for the attempt; `id` and `attempt` say the same in
      // machine and human form.
      name: a.id,
      category: a.category,
      attempt: a.attempt,
      result: a.result,
      layer: a.layer,
      detail: a.detail,
    })),
    summary: { ...report.summary, durationMs: report.durationMs },
  };
}
