import { OpenShellError } from './errors/openshell-error.js';
import { policyToYaml } from './policy-to-yaml.js';
import type { Policy } from './types.js';

export type PolicyRevisionStatus = 'Pending' | 'Loaded' | 'Failed' | 'Superseded';

/** The revision facts printed above the YAML body by `policy get --full`. */
export interface PolicyDocumentMeta {
  readonly version: number;
  /** 64 hex digits (hashPolicy of the revision's policy). */
  readonly hash: string;
  readonly status: PolicyRevisionStatus;
  /** The version currently active on the sandbox; null when none has loaded yet (shown as `-`). */
  readonly active: number | null;
  /** Date or epoch milliseconds. */
  readonly createdAt: Date | number;
  readonly loadedAt?: Date | number;
  /** Load error of a Failed revision. */
  readonly error?: string;
}

// `policy get` aligns values at column 14 (OpenShell's `"Version:      "`).
const LABEL_WIDTH = 14;

/** `YYYY-MM-DD HH:MM:SS UTC` for a Date or epoch milliseconds. */
export function formatUtcTimestamp(time: Date | number): string {
  const date = typeof time === 'number' ? new Date(time) : time;
  if (Number.isNaN(date.getTime())) {
    throw new OpenShellError(
      'ERR_INTERNAL',
      `invalid timestamp ${String(time)} in a policy revision`,
    );
  }
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The header lines of `policy get` (no trailing `---`), one `Label:` padded to column 14 per line. */
export function formatPolicyHeader(meta: PolicyDocumentMeta): string {
  const rows: [string, string][] = [
    ['Version', String(meta.version)],
    ['Hash', meta.hash],
    ['Status', meta.status],
    ['Active', meta.active === null ? '-' : String(meta.active)],
    ['Created', formatUtcTimestamp(meta.createdAt)],
  ];
  if (meta.loadedAt !== undefined) rows.push(['Loaded', formatUtcTimestamp(meta.loadedAt)]);
  // One line per field, whatever the error says: a newline in it would end the header early.
  if (meta.error !== undefined) rows.push(['Error', meta.error.replace(/\s+/g, ' ').trim()]);
  return rows.map(([label, value]) => `${`${label}:`.padEnd(LABEL_WIDTH)}${value}`).join('\n');
}

/** The exact `policy get --full` text: header, `---`, then the YAML body. */
export function formatPolicyDocument(meta: PolicyDocumentMeta, policy: Policy): string {
  return `${formatPolicyHeader(meta)}\n---\n${policyToYaml(policy)}`;
}

/**
 * Removes a leftover `policy get --full` header: when the first non-blank line starts with
 * `Version:`, every line above the first `---` line is blanked (not deleted), so parsePolicy
 * still reports the original file's line numbers. Any other text comes back unchanged.
 */
export function stripPolicyHeader(text: string): { text: string; stripped: boolean } {
  const lines = text.split('\n');
  const first = lines.findIndex((line) => line.trim() !== '');
  if (first < 0 || !/^(\uFEFF)?Version:/.test(lines[first] ?? '')) return { text, stripped: false };
  const separator = lines.findIndex((line, index) => index > first && /^---\s*$/.test(line));
  if (separator < 0) return { text, stripped: false };
  // Keep each line's `\r` so CRLF files keep their line endings; `---` stays as the
  // document-start marker, which YAML allows before the body.
  const blanked = lines.map((line, index) =>
    index < separator ? (line.endsWith('\r') ? '\r' : '') : line,
  );
  return { text: blanked.join('\n'), stripped: true };
}
