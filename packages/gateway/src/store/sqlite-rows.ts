import type {
  EventRecord,
  InferenceRouteRecord,
  PolicyRevisionRecord,
  PolicyStatus,
  RouteApi,
  RouteKind,
  SandboxPhase,
  SandboxRecord,
  StoredExit,
  StoredSandboxSpec,
  EventKind,
  EventLevel,
  EventSource,
} from './gateway-store.js';

/**
 * Row shapes of the SQLite schema and their conversion to the store's records. The CHECK
 * constraints in sqlite-migrations.ts guarantee the enum columns, so the casts below narrow
 * values the database already validated; JSON columns hold only what this store wrote.
 */

export interface SandboxRow {
  readonly id: string;
  readonly name: string;
  readonly labels: string;
  readonly created_at_ms: number;
  readonly updated_at_ms: number;
  readonly resource_version: number;
  readonly phase: string;
  readonly phase_reason: string | null;
  readonly main_exit: string | null;
  readonly spec: string;
  readonly current_policy_version: number;
  readonly delete_requested: number;
  readonly token_sha256: string;
}

export interface RevisionRow {
  readonly sandbox_id: string;
  readonly version: number;
  readonly hash: string;
  readonly yaml: string;
  readonly status: string;
  readonly created_at_ms: number;
  readonly loaded_at_ms: number | null;
  readonly error: string | null;
  readonly proxy_acked_at_ms: number | null;
  readonly agent_acked_at_ms: number | null;
}

export interface ProviderRow {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly allowed_hosts: string;
  readonly created_at_ms: number;
}

export interface RouteRow {
  readonly name: string;
  readonly kind: string;
  readonly base_url: string;
  readonly api: string;
  readonly model: string;
  readonly has_api_key: number;
  readonly updated_at_ms: number;
}

export interface EventRow {
  readonly id: number;
  readonly time_ms: number;
  readonly sandbox_id: string;
  readonly sandbox_name: string;
  readonly source: string;
  readonly level: string;
  readonly kind: string;
  readonly payload: string;
}

/** Converts a sandboxes row to its record. */
export function toSandboxRecord(row: SandboxRow): SandboxRecord {
  return {
    id: row.id,
    name: row.name,
    labels: parseJson<Record<string, string>>(row.labels),
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
    resourceVersion: row.resource_version,
    phase: row.phase as SandboxPhase,
    ...(row.phase_reason === null ? {} : { phaseReason: row.phase_reason }),
    ...(row.main_exit === null ? {} : { mainExit: parseJson<StoredExit>(row.main_exit) }),
    spec: parseJson<StoredSandboxSpec>(row.spec),
    currentPolicyVersion: row.current_policy_version,
    deleteRequested: row.delete_requested === 1,
    tokenSha256: row.token_sha256,
  };
}

/** Converts a policy_revisions row to its record. */
export function toRevisionRecord(row: RevisionRow): PolicyRevisionRecord {
  return {
    sandboxId: row.sandbox_id,
    version: row.version,
    hash: row.hash,
    yaml: row.yaml,
    status: row.status as PolicyStatus,
    createdAtMs: row.created_at_ms,
    ...(row.loaded_at_ms === null ? {} : { loadedAtMs: row.loaded_at_ms }),
    ...(row.error === null ? {} : { error: row.error }),
    ...(row.proxy_acked_at_ms === null ? {} : { proxyAckedAtMs: row.proxy_acked_at_ms }),
    ...(row.agent_acked_at_ms === null ? {} : { agentAckedAtMs: row.agent_acked_at_ms }),
  };
}

/** Converts an inference_routes row (with has_api_key computed by the query) to its record. */
export function toRouteRecord(row: RouteRow): InferenceRouteRecord {
  return {
    name: row.name,
    kind: row.kind as RouteKind,
    baseUrl: row.base_url,
    api: row.api as RouteApi,
    model: row.model,
    hasApiKey: row.has_api_key === 1,
    updatedAtMs: row.updated_at_ms,
  };
}

/** Converts an events row to its record. */
export function toEventRecord(row: EventRow): EventRecord {
  return {
    id: row.id,
    timeMs: row.time_ms,
    sandboxId: row.sandbox_id,
    sandboxName: row.sandbox_name,
    source: row.source as EventSource,
    level: row.level as EventLevel,
    kind: row.kind as EventKind,
    payload: row.payload,
  };
}

/** Parses a JSON column this store wrote itself (the schema checks json_valid on write). */
export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}
