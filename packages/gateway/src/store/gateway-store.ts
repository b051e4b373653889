/**
 * The gateway's state, behind one interface that SQLite (default) and Postgres (scale-out)
 * both implement; the same contract tests run against every implementation. Every method is
 * async so a networked store fits without changing callers.
 *
 * Records here are the gateway's own shapes (plain numbers and strings), not proto messages:
 * the store must not change when the wire contract grows a field.
 */

export type SandboxPhase = 'Provisioning' | 'Ready' | 'Error' | 'Deleting';

/** What the user asked for at creation; never holds a secret value. */
export interface StoredSandboxSpec {
  readonly from?: string;
  readonly providers: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly command: readonly string[];
  readonly tty: boolean;
  readonly cpuMillicores?: number;
  readonly memoryBytes?: number;
  readonly pidsMax?: number;
  readonly deleteOnExit: boolean;
}

export interface StoredExit {
  readonly code?: number;
  readonly signal?: string;
}

export interface SandboxRecord {
  /** Short unique id chosen by the gateway (`[a-z0-9][a-z0-9-]{0,30}`). */
  readonly id: string;
  /** Unique among existing sandboxes. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** Bumped by every update; updateSandbox compares it (compare-and-swap). Starts at 1. */
  readonly resourceVersion: number;
  readonly phase: SandboxPhase;
  readonly phaseReason?: string;
  readonly mainExit?: StoredExit;
  readonly spec: StoredSandboxSpec;
  /** Version of the newest revision both proxy and agent acknowledged; 0 before the first. */
  readonly currentPolicyVersion: number;
  /** The user asked for deletion; a main-process exit must not move it to Error. */
  readonly deleteRequested: boolean;
  /** SHA-256 (hex) of the agent's per-sandbox token; the token itself is never stored. */
  readonly tokenSha256: string;
}

export type NewSandbox = Omit<SandboxRecord, 'resourceVersion' | 'updatedAtMs'>;

/**
 * Fields an update may change; everything else is fixed at creation. An absent field is left
 * as stored; `phaseReason` or `mainExit` present with the value undefined clears it (the
 * explicit `| undefined` is what lets callers say so under exactOptionalPropertyTypes).
 */
export type SandboxPatch = Partial<
  Pick<SandboxRecord, 'phase' | 'currentPolicyVersion' | 'deleteRequested' | 'labels'>
> & {
  readonly phaseReason?: string | undefined;
  readonly mainExit?: StoredExit | undefined;
};

export type PolicyStatus = 'Pending' | 'Loaded' | 'Failed' | 'Superseded';

export interface PolicyRevisionRecord {
  readonly sandboxId: string;
  /** Monotonic per sandbox, from 1. */
  readonly version: number;
  /** Hex SHA-256 of the canonical policy (policy-schema's hashPolicy). */
  readonly hash: string;
  /** The normalised policy as YAML (policyToYaml), what `policy get --full` prints. */
  readonly yaml: string;
  readonly status: PolicyStatus;
  readonly createdAtMs: number;
  readonly loadedAtMs?: number;
  readonly error?: string;
  readonly proxyAckedAtMs?: number;
  readonly agentAckedAtMs?: number;
}

export type RevisionPatch = Partial<
  Pick<
    PolicyRevisionRecord,
    'status' | 'loadedAtMs' | 'error' | 'proxyAckedAtMs' | 'agentAckedAtMs'
  >
>;

export interface AddRevisionResult {
  readonly revision: PolicyRevisionRecord;
  /**
   * false when the newest revision already had this hash: nothing was stored and that
   * revision is returned (an identical re-push keeps the version).
   */
  readonly created: boolean;
}

/** A provider without its secret values (what every read returns). */
export interface ProviderRecord {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  /** Names of the stored credentials, sorted. */
  readonly credentialKeys: readonly string[];
  readonly allowedHosts: readonly string[];
  readonly createdAtMs: number;
}

export interface NewProvider {
  readonly name: string;
  readonly type: string;
  /** KEY → secret value; encrypted at rest, readable only through providerSecrets(). */
  readonly credentials: Readonly<Record<string, string>>;
  readonly allowedHosts: readonly string[];
}

export type RouteKind = 'local' | 'frontier';
export type RouteApi = 'openai' | 'anthropic';

export interface InferenceRouteRecord {
  readonly name: string;
  readonly kind: RouteKind;
  readonly baseUrl: string;
  readonly api: RouteApi;
  readonly model: string;
  readonly hasApiKey: boolean;
  readonly updatedAtMs: number;
}

export interface InferenceRouteInput {
  readonly name: string;
  readonly kind: RouteKind;
  readonly baseUrl: string;
  readonly api: RouteApi;
  readonly model: string;
  /** undefined = keep the stored key (or none); '' = remove it; else the new key (encrypted). */
  readonly apiKey?: string;
}

export type EventSource = 'gateway' | 'sandbox' | 'proxy';
/** Ordered by severity; minLevel filters with "at or above". */
export type EventLevel = 'debug' | 'info' | 'warn' | 'error';
export type EventKind = 'decision' | 'lifecycle';

export interface NewEvent {
  readonly timeMs: number;
  /** Empty for events about no sandbox. */
  readonly sandboxId: string;
  readonly sandboxName: string;
  readonly source: EventSource;
  readonly level: EventLevel;
  readonly kind: EventKind;
  /** The event itself, JSON (the gateway's encoding; the store does not look inside). */
  readonly payload: string;
}

export interface EventRecord extends NewEvent {
  /** Monotonic insertion id; FollowLogs resumes after the last one it sent. */
  readonly id: number;
}

export interface EventQuery {
  readonly sandboxId?: string;
  readonly sinceMs?: number;
  /** Empty or absent = every source. */
  readonly sources?: readonly EventSource[];
  readonly minLevel?: EventLevel;
  /** Only events with id > afterId. */
  readonly afterId?: number;
  /** The newest `limit` matches (default 200), returned oldest first. */
  readonly limit?: number;
}

export interface RetentionPolicy {
  /** Events older than this are deleted. */
  readonly maxAgeMs: number;
  /** Beyond this many events, the oldest are deleted. */
  readonly maxCount: number;
}

export interface GatewayStore {
  /** Which implementation (`sqlite`, `postgres`), for status output. */
  readonly kind: string;

  /** Throws ERR_SANDBOX_EXISTS when the name (or id) is taken. */
  createSandbox(sandbox: NewSandbox): Promise<SandboxRecord>;
  /** By id first, then by name; undefined when neither matches. */
  getSandbox(idOrName: string): Promise<SandboxRecord | undefined>;
  /** Ordered by creation time, oldest first. */
  listSandboxes(): Promise<readonly SandboxRecord[]>;
  /**
   * Applies the patch only when the stored resourceVersion equals `expectedVersion`; returns
   * the new record. Throws ERR_CONFLICT (another writer won) or ERR_SANDBOX_NOT_FOUND.
   */
  updateSandbox(
    id: string,
    expectedVersion: number,
    patch: SandboxPatch,
    nowMs: number,
  ): Promise<SandboxRecord>;
  /** Removes the record and its revisions; events stay (they are history). false if unknown. */
  deleteSandbox(id: string): Promise<boolean>;

  /**
   * Stores a new revision (status Pending, version = newest + 1) unless the newest revision
   * has the same hash. Older Pending revisions become Superseded in the same transaction.
   */
  addRevision(
    sandboxId: string,
    revision: { readonly hash: string; readonly yaml: string; readonly createdAtMs: number },
  ): Promise<AddRevisionResult>;
  getRevision(sandboxId: string, version: number): Promise<PolicyRevisionRecord | undefined>;
  /** Newest first; limit absent = all. */
  listRevisions(sandboxId: string, limit?: number): Promise<readonly PolicyRevisionRecord[]>;
  /** Throws ERR_CONFLICT when the revision does not exist. */
  updateRevision(
    sandboxId: string,
    version: number,
    patch: RevisionPatch,
  ): Promise<PolicyRevisionRecord>;

  /** Throws ERR_PROVIDER_EXISTS when the name is taken. */
  createProvider(provider: NewProvider, nowMs: number): Promise<ProviderRecord>;
  getProvider(name: string): Promise<ProviderRecord | undefined>;
  listProviders(): Promise<readonly ProviderRecord[]>;
  /** The decrypted credential values; throws ERR_PROVIDER_NOT_FOUND. Only the proxy push uses it. */
  providerSecrets(name: string): Promise<Readonly<Record<string, string>>>;
  deleteProvider(name: string): Promise<boolean>;

  setInferenceRoute(route: InferenceRouteInput, nowMs: number): Promise<InferenceRouteRecord>;
  getInferenceRoute(name: string): Promise<InferenceRouteRecord | undefined>;
  listInferenceRoutes(): Promise<readonly InferenceRouteRecord[]>;
  /** Routes with their decrypted keys ('' when none), for the proxy push only. */
  inferenceRouteKeys(): Promise<Readonly<Record<string, string>>>;
  deleteInferenceRoute(name: string): Promise<boolean>;

  /** Appends in order; returns the stored records with their ids. */
  appendEvents(events: readonly NewEvent[]): Promise<readonly EventRecord[]>;
  queryEvents(query: EventQuery): Promise<readonly EventRecord[]>;
  /** Deletes by age and count; returns how many were deleted. */
  pruneEvents(retention: RetentionPolicy, nowMs: number): Promise<number>;

  /** Cheap round trip for /readyz; throws when the store cannot serve. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
