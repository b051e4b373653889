import { status, type ServiceError } from '@grpc/grpc-js';
import {
  LogSource,
  type FollowLogsResponse,
  type LogEntry,
  type OpenShellClient,
  type WatchSandboxesResponse,
} from '@openshell/proto';
import { callUnary } from '../gateway/call-unary.js';
import { fromGrpcError } from '../gateway/grpc-error.js';

/** Newest backlog entries FollowLogs replays when a sandbox is selected. */
const LOG_BACKLOG = 500;

/** What the dashboard needs from the gateway; tests pass their own. */
export interface TermGateway {
  /** Streams WatchSandboxes (initial snapshot, SYNCED, live) until the stream ends or `signal` aborts. */
  watchSandboxes(
    onEvent: (event: WatchSandboxesResponse) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** Streams one sandbox's FollowLogs (backlog, then live) until it ends or `signal` aborts. */
  followLogs(
    sandbox: string,
    onEntry: (entry: LogEntry) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** Streams every sandbox's proxy decisions from now on, until it ends or `signal` aborts. */
  followDecisions(onEntry: (entry: LogEntry) => void, signal: AbortSignal): Promise<void>;
  /** The effective policy YAML (`policy get --full`'s body). */
  getPolicyYaml(sandbox: string): Promise<string>;
  deleteSandbox(sandbox: string): Promise<void>;
}

/**
 * The gateway behind `getClient`, which connects lazily (and may fail while the gateway is
 * down, which the dashboard shows and retries). A stream that ends because `signal` aborted
 * resolves; any other failure rejects with the mapped OpenShellError.
 */
export function createTermGateway(getClient: () => Promise<OpenShellClient>): TermGateway {
  return {
    async watchSandboxes(onEvent, signal) {
      const client = await getClient();
      const call = client.watchSandboxes({ labelSelector: {}, includeInitial: true });
      await pumpStream(call, (response: WatchSandboxesResponse) => onEvent(response), signal);
    },
    async followLogs(sandbox, onEntry, signal) {
      const client = await getClient();
      const call = client.followLogs({ filter: { sandbox, sources: [], limit: LOG_BACKLOG } });
      await pumpStream(
        call,
        (response: FollowLogsResponse) => {
          if (response.entry !== undefined) onEntry(response.entry);
        },
        signal,
      );
    },
    async followDecisions(onEntry, signal) {
      const client = await getClient();
      // sinceMs = now: the counts before it come with the watch records; only newer ones add.
      const filter = { sources: [LogSource.LOG_SOURCE_PROXY], sinceMs: Date.now() };
      const call = client.followLogs({ filter });
      await pumpStream(
        call,
        (response: FollowLogsResponse) => {
          if (response.entry !== undefined) onEntry(response.entry);
        },
        signal,
      );
    },
    async getPolicyYaml(sandbox) {
      const client = await getClient();
      const response = await callUnary(client.getPolicy.bind(client), { sandbox });
      return response.yaml;
    },
    async deleteSandbox(sandbox) {
      const client = await getClient();
      await callUnary(client.deleteSandbox.bind(client), { sandbox });
    },
  };
}

interface ServerStream<T> {
  on(event: 'data', listener: (data: T) => void): unknown;
  on(event: 'error', listener: (err: ServiceError) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  cancel(): void;
}

function pumpStream<T>(
  call: ServerStream<T>,
  onData: (data: T) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let cancelled = false;
    const cancel = (): void => {
      cancelled = true;
      call.cancel();
    };
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
    call.on('data', onData);
    call.on('error', function onStreamError(err: ServiceError) {
      signal.removeEventListener('abort', cancel);
      if (cancelled && err.code === status.CANCELLED) resolve();
      else reject(fromGrpcError(err));
    });
    call.on('end', function onStreamEnd() {
      signal.removeEventListener('abort', cancel);
      resolve();
    });
  });
}
