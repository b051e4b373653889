import {
  Action,
  DecisionLayer,
  LogEntry,
  LogLevel,
  LogSource,
  Sandbox,
  SandboxPhase,
  WatchEventType,
  type WatchSandboxesResponse,
} from '@openshell/proto';
import type { TermGateway } from '../term-gateway.js';

/** Follower key of the all-sandboxes decision stream (no sandbox name can contain NUL). */
const ALL_SANDBOXES = '\u0000all';

interface Stream<T> {
  readonly push: (item: T) => void;
  readonly fail: (err: Error) => void;
}

/** A sandbox record as the gateway would send it. */
export function makeSandbox(name: string, overrides: Partial<Sandbox> = {}): Sandbox {
  return Sandbox.fromPartial({
    id: `id-${name}`,
    name,
    createdAtMs: 1_000_000,
    phase: SandboxPhase.SANDBOX_PHASE_READY,
    currentPolicyVersion: 1,
    decisions: { allowed: 0, denied: 0, audited: 0 },
    ...overrides,
  });
}

/** A proxy decision entry for `sandbox`. */
export function makeDecision(
  sandbox: string,
  action: Action,
  host: string,
  timeMs = 1_700_000_000_000,
): LogEntry {
  return LogEntry.fromPartial({
    source: LogSource.LOG_SOURCE_PROXY,
    level: action === Action.ACTION_ALLOW ? LogLevel.LOG_LEVEL_INFO : LogLevel.LOG_LEVEL_WARN,
    event: {
      $case: 'decision',
      value: {
        timeMs,
        sandboxId: `id-${sandbox}`,
        sandboxName: sandbox,
        action,
        binary: '/usr/bin/curl',
        host,
        port: 443,
        reason: 'test',
        layer: DecisionLayer.DECISION_LAYER_L4,
      },
    },
  });
}

/**
 * An in-memory gateway: streams stay open until the test pushes, fails them (`setDown`) or
 * the dashboard aborts them; a down gateway rejects new streams like a refused connection.
 */
export class FakeTermGateway implements TermGateway {
  readonly sandboxes = new Map<string, Sandbox>();
  readonly logs = new Map<string, LogEntry[]>();
  readonly policies = new Map<string, string>();
  readonly deleted: string[] = [];
  watchAttempts = 0;
  followed: string[] = [];
  policyRequests = 0;
  private down = false;
  private readonly watchers = new Set<Stream<WatchSandboxesResponse>>();
  private readonly followers = new Map<Stream<LogEntry>, string>();

  watchSandboxes(
    onEvent: (event: WatchSandboxesResponse) => void,
    signal: AbortSignal,
  ): Promise<void> {
    this.watchAttempts += 1;
    if (this.down) return Promise.reject(new Error('cannot reach the gateway at test:1'));
    return this.open(signal, onEvent, (stream) => {
      this.watchers.add(stream);
      for (const sandbox of this.sandboxes.values()) {
        onEvent({ type: WatchEventType.WATCH_EVENT_TYPE_ADDED, sandbox });
      }
      onEvent({ type: WatchEventType.WATCH_EVENT_TYPE_SYNCED, sandbox: undefined });
      return () => this.watchers.delete(stream);
    });
  }

  followLogs(
    sandbox: string,
    onEntry: (entry: LogEntry) => void,
    signal: AbortSignal,
  ): Promise<void> {
    this.followed.push(sandbox);
    if (this.down) return Promise.reject(new Error('cannot reach the gateway at test:1'));
    return this.open(signal, onEntry, (stream) => {
      this.followers.set(stream, sandbox);
      for (const entry of this.logs.get(sandbox) ?? []) onEntry(entry);
      return () => this.followers.delete(stream);
    });
  }

  followDecisions(onEntry: (entry: LogEntry) => void, signal: AbortSignal): Promise<void> {
    if (this.down) return Promise.reject(new Error('cannot reach the gateway at test:1'));
    // Like the gateway's sinceMs = now: no backlog, live decisions only.
    return this.open(signal, onEntry, (stream) => {
      this.followers.set(stream, ALL_SANDBOXES);
      return () => this.followers.delete(stream);
    });
  }

  getPolicyYaml(sandbox: string): Promise<string> {
    this.policyRequests += 1;
    const yaml = this.policies.get(sandbox);
    if (yaml === undefined) return Promise.reject(new Error(`no policy for ${sandbox}`));
    return Promise.resolve(yaml);
  }

  deleteSandbox(sandbox: string): Promise<void> {
    this.deleted.push(sandbox);
    const record = this.sandboxes.get(sandbox);
    if (record === undefined) return Promise.reject(new Error(`sandbox "${sandbox}" not found`));
    this.sandboxes.delete(sandbox);
    this.emit({ type: WatchEventType.WATCH_EVENT_TYPE_DELETED, sandbox: record });
    return Promise.resolve();
  }

  /** Adds or updates a sandbox and tells every open watch. */
  upsert(sandbox: Sandbox): void {
    const known = this.sandboxes.has(sandbox.name);
    this.sandboxes.set(sandbox.name, sandbox);
    this.emit({
      type: known ? WatchEventType.WATCH_EVENT_TYPE_UPDATED : WatchEventType.WATCH_EVENT_TYPE_ADDED,
      sandbox,
    });
  }

  /** Records a log entry and sends it to the followers of its sandbox. */
  log(sandbox: string, entry: LogEntry): void {
    this.logs.set(sandbox, [...(this.logs.get(sandbox) ?? []), entry]);
    for (const [stream, name] of this.followers) {
      if (name === sandbox || (name === ALL_SANDBOXES && entry.event?.$case === 'decision')) {
        stream.push(entry);
      }
    }
  }

  /** Going down fails every open stream (as a killed gateway does); coming up accepts new ones. */
  setDown(down: boolean): void {
    this.down = down;
    if (!down) return;
    const err = new Error('cannot reach the gateway at test:1');
    for (const stream of [...this.watchers, ...this.followers.keys()]) stream.fail(err);
  }

  private emit(event: WatchSandboxesResponse): void {
    for (const stream of this.watchers) stream.push(event);
  }

  private open<T>(
    signal: AbortSignal,
    onItem: (item: T) => void,
    start: (stream: Stream<T>) => () => void,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let close = (): void => undefined;
      const end = (): void => {
        close();
        resolve();
      };
      const stream: Stream<T> = {
        push: onItem,
        fail: (err) => {
          close();
          signal.removeEventListener('abort', end);
          reject(err);
        },
      };
      signal.addEventListener('abort', end, { once: true });
      close = start(stream);
    });
  }
}
