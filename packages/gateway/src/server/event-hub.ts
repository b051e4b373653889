import {
  Action,
  LifecycleEventKind,
  LogEntry,
  LogLevel,
  LogSource,
  type DecisionEvent,
  type LifecycleEvent,
  type LogFilter,
} from '@openshell/proto';
import type {
  EventLevel,
  EventQuery,
  EventRecord,
  EventSource,
  GatewayStore,
  NewEvent,
} from '../store/gateway-store.js';

const SOURCE_NAMES: Record<EventSource, LogSource> = {
  gateway: LogSource.LOG_SOURCE_GATEWAY,
  sandbox: LogSource.LOG_SOURCE_SANDBOX,
  proxy: LogSource.LOG_SOURCE_PROXY,
};
const LEVEL_NAMES: Record<EventLevel, LogLevel> = {
  debug: LogLevel.LOG_LEVEL_DEBUG,
  info: LogLevel.LOG_LEVEL_INFO,
  warn: LogLevel.LOG_LEVEL_WARN,
  error: LogLevel.LOG_LEVEL_ERROR,
};

function sourceOf(value: LogSource): EventSource | undefined {
  return (Object.keys(SOURCE_NAMES) as EventSource[]).find((key) => SOURCE_NAMES[key] === value);
}

function levelOf(value: LogLevel): EventLevel | undefined {
  return (Object.keys(LEVEL_NAMES) as EventLevel[]).find((key) => LEVEL_NAMES[key] === value);
}

/** Allows are routine; audits and denies are what an operator scans for. */
function decisionLevel(event: DecisionEvent): EventLevel {
  return event.action === Action.ACTION_ALLOW ? 'info' : 'warn';
}

function lifecycleLevel(event: LifecycleEvent): EventLevel {
  const kind = event.kind;
  if (
    kind === LifecycleEventKind.LIFECYCLE_EVENT_KIND_ERROR ||
    kind === LifecycleEventKind.LIFECYCLE_EVENT_KIND_POLICY_FAILED
  ) {
    return 'error';
  }
  if (kind === LifecycleEventKind.LIFECYCLE_EVENT_KIND_ENFORCEMENT_DEGRADED) return 'warn';
  if (kind === LifecycleEventKind.LIFECYCLE_EVENT_KIND_PROCESS_EXITED) {
    return event.exit?.code === 0 ? 'info' : 'warn';
  }
  return 'info';
}

/** A stored entry decoded back into the wire shape. */
export function toLogEntry(record: EventRecord): LogEntry {
  return LogEntry.fromJSON(JSON.parse(record.payload));
}

/** The store query a LogFilter asks for; `sandboxId` is resolved by the caller. */
export function toEventQuery(filter: LogFilter | undefined, sandboxId?: string): EventQuery {
  const sources = (filter?.sources ?? []).map(sourceOf).filter((s) => s !== undefined);
  const minLevel = filter?.minLevel === undefined ? undefined : levelOf(filter.minLevel);
  return {
    ...(sandboxId === undefined ? {} : { sandboxId }),
    ...(filter?.sinceMs === undefined ? {} : { sinceMs: filter.sinceMs }),
    ...(sources.length > 0 ? { sources } : {}),
    ...(minLevel === undefined ? {} : { minLevel }),
    limit: filter?.limit ?? 200,
  };
}

const LEVEL_ORDER: readonly EventLevel[] = ['debug', 'info', 'warn', 'error'];

/** Whether a stored record passes a query's filters (used for live entries). */
export function matchesQuery(record: EventRecord, query: EventQuery): boolean {
  if (query.sandboxId !== undefined && record.sandboxId !== query.sandboxId) return false;
  if (query.sinceMs !== undefined && record.timeMs < query.sinceMs) return false;
  if (
    query.sources !== undefined &&
    query.sources.length > 0 &&
    !query.sources.includes(record.source)
  ) {
    return false;
  }
  if (
    query.minLevel !== undefined &&
    LEVEL_ORDER.indexOf(record.level) < LEVEL_ORDER.indexOf(query.minLevel)
  ) {
    return false;
  }
  return true;
}

export interface EventHub {
  /** Records a decision from the proxy (batched; followers see it after it is stored). */
  decision(event: DecisionEvent): void;
  /** Records a lifecycle event (gateway-derived). */
  lifecycle(event: LifecycleEvent): void;
  /** Live records after they are stored; returns the unsubscribe function. */
  subscribe(listener: (record: EventRecord) => void): () => void;
  /** Stores everything queued now (tests, shutdown). */
  flush(): Promise<void>;
}

export interface EventHubDeps {
  readonly store: GatewayStore;
  readonly log: (message: string) => void;
  /** Batching window for bursts of decisions; default 25 ms. */
  readonly batchMs?: number;
}

/**
 * Collects decision and lifecycle events into the store in small batches (a chatty sandbox
 * makes thousands of decisions a second; one transaction per batch keeps SQLite off the hot
 * path) and fans stored records out to followers (`logs --tail`, the dashboard).
 */
export function createEventHub(deps: EventHubDeps): EventHub {
  const queue: NewEvent[] = [];
  const listeners = new Set<(record: EventRecord) => void>();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  function enqueue(event: NewEvent): void {
    queue.push(event);
    timer ??= setTimeout(() => {
      timer = undefined;
      void flush();
    }, deps.batchMs ?? 25);
  }

  function flush(): Promise<void> {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    const batch = queue.splice(0);
    writing = writing.then(async () => {
      if (batch.length === 0) return;
      try {
        const stored = await deps.store.appendEvents(batch);
        for (const record of stored) for (const listener of listeners) listener(record);
      } catch (error) {
        deps.log(`could not store ${String(batch.length)} events: ${String(error)}`);
      }
    });
    return writing;
  }

  return {
    decision(event) {
      const entry: LogEntry = {
        source: LogSource.LOG_SOURCE_PROXY,
        level: LEVEL_NAMES[decisionLevel(event)],
        event: { $case: 'decision', value: event },
      };
      enqueue({
        timeMs: event.timeMs,
        sandboxId: event.sandboxId,
        sandboxName: event.sandboxName,
        source: 'proxy',
        level: decisionLevel(event),
        kind: 'decision',
        payload: JSON.stringify(LogEntry.toJSON(entry)),
      });
    },
    lifecycle(event) {
      const level = lifecycleLevel(event);
      const entry: LogEntry = {
        source: LogSource.LOG_SOURCE_GATEWAY,
        level: LEVEL_NAMES[level],
        event: { $case: 'lifecycle', value: event },
      };
      enqueue({
        timeMs: event.timeMs,
        sandboxId: event.sandboxId,
        sandboxName: event.sandboxName,
        source: 'gateway',
        level,
        kind: 'lifecycle',
        payload: JSON.stringify(LogEntry.toJSON(entry)),
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    flush,
  };
}
