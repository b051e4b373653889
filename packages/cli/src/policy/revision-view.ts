import {
  OpenShellError,
  formatPolicyHeader,
  type PolicyRevisionStatus,
} from '@openshell/policy-schema';
import { PolicyStatus, type GetPolicyResponse, type PolicyRevision } from '@openshell/proto';
import { formatTime } from '../render/format-time.js';
import { renderTable } from '../render/render-table.js';

const STATUS_NAMES: Readonly<Record<PolicyStatus, PolicyRevisionStatus | undefined>> = {
  [PolicyStatus.POLICY_STATUS_UNSPECIFIED]: undefined,
  [PolicyStatus.POLICY_STATUS_PENDING]: 'Pending',
  [PolicyStatus.POLICY_STATUS_LOADED]: 'Loaded',
  [PolicyStatus.POLICY_STATUS_FAILED]: 'Failed',
  [PolicyStatus.POLICY_STATUS_SUPERSEDED]: 'Superseded',
  [PolicyStatus.UNRECOGNIZED]: undefined,
};

/** `Pending`/`Loaded`/`Failed`/`Superseded`; a revision without a status is a gateway bug. */
export function toStatusName(status: PolicyStatus): PolicyRevisionStatus {
  const name = STATUS_NAMES[status];
  if (name === undefined) {
    throw new OpenShellError(
      'ERR_INTERNAL',
      `the gateway returned a policy revision with no status (${status}); upgrade the gateway or CLI`,
    );
  }
  return name;
}

/** The `policy get` header (policy-schema's format, so `policy set` can strip it again). */
export function formatRevisionHeader(revision: PolicyRevision, activeVersion: number): string {
  return formatPolicyHeader({
    version: revision.version,
    hash: revision.hash,
    status: toStatusName(revision.status),
    // Version 0 is the proto default: nothing has loaded yet.
    active: activeVersion === 0 ? null : activeVersion,
    createdAt: revision.createdAtMs,
    ...(revision.loadedAtMs === undefined ? {} : { loadedAt: revision.loadedAtMs }),
    ...(revision.error === undefined ? {} : { error: revision.error }),
  });
}

/** `policy get` text: the header, and with `full` the `---` line and the YAML body. */
export function formatPolicyGet(response: GetPolicyResponse, full: boolean): string {
  const revision = requireRevision(response.revision);
  const header = formatRevisionHeader(revision, response.activeVersion);
  if (!full) return `${header}\n`;
  const body = response.yaml.endsWith('\n') ? response.yaml : `${response.yaml}\n`;
  return `${header}\n---\n${body}`;
}

/** Stable JSON of one revision (`policy get/list/set -o json`). */
export function revisionToJson(
  revision: PolicyRevision,
  activeVersion: number,
): Record<string, unknown> {
  return {
    version: revision.version,
    hash: revision.hash,
    status: toStatusName(revision.status).toLowerCase(),
    active: activeVersion !== 0 && revision.version === activeVersion,
    active_version: activeVersion === 0 ? null : activeVersion,
    created_at: isoTime(revision.createdAtMs),
    loaded_at: revision.loadedAtMs === undefined ? null : isoTime(revision.loadedAtMs),
    error: revision.error ?? null,
  };
}

/** `policy get -o json`: the revision plus the YAML body with `--full`. */
export function policyGetToJson(
  response: GetPolicyResponse,
  full: boolean,
): Record<string, unknown> {
  const revision = requireRevision(response.revision);
  return {
    ...revisionToJson(revision, response.activeVersion),
    ...(full ? { yaml: response.yaml } : {}),
  };
}

/**
 * `policy list`: newest first, `*` after the active version, HASH cut to 12 hex (enough to
 * tell revisions apart; `policy get --rev N` shows the full hash).
 */
export function formatRevisionList(
  revisions: readonly PolicyRevision[],
  activeVersion: number,
): string {
  const sorted = [...revisions].sort((a, b) => b.version - a.version);
  const rows = sorted.map((r) => [
    `${r.version}${r.version === activeVersion ? '*' : ''}`,
    r.hash.slice(0, 12),
    toStatusName(r.status),
    formatTime(r.createdAtMs),
    oneLine(r.error ?? ''),
  ]);
  return renderTable(['VERSION', 'HASH', 'STATUS', 'CREATED', 'ERROR'], rows);
}

/** A revision the gateway must send; its absence is a gateway bug, not user input. */
export function requireRevision(revision: PolicyRevision | undefined): PolicyRevision {
  if (revision === undefined) {
    throw new OpenShellError('ERR_INTERNAL', 'the gateway answered without a policy revision');
  }
  return revision;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 60 ? `${flat.slice(0, 59)}…` : flat;
}

function isoTime(ms: number): string | null {
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null;
}
