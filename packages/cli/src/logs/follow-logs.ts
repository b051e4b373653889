import { status, type ServiceError } from '@grpc/grpc-js';
import type { FollowLogsResponse, LogEntry, LogFilter, OpenShellClient } from '@openshell/proto';
import { fromGrpcError } from '../gateway/grpc-error.js';

/**
 * Streams FollowLogs (backlog, then live entries) into `onEntry` until `signal` aborts —
 * Ctrl-C or a closed stdout pipe — or the gateway ends the stream. Resolves on either; a
 * transport failure rejects with the OpenShellError it maps to.
 */
export function followLogs(
  client: OpenShellClient,
  filter: LogFilter,
  onEntry: (entry: LogEntry) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const call = client.followLogs({ filter });
    let cancelled = false;
    const cancel = (): void => {
      cancelled = true;
      call.cancel();
    };
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
    call.on('data', function onFollowLogsData(response: FollowLogsResponse) {
      if (response.entry !== undefined) onEntry(response.entry);
    });
    call.on('error', function onFollowLogsError(err: ServiceError) {
      signal.removeEventListener('abort', cancel);
      if (cancelled && err.code === status.CANCELLED) resolve();
      else reject(fromGrpcError(err));
    });
    call.on('end', function onFollowLogsEnd() {
      signal.removeEventListener('abort', cancel);
      resolve();
    });
  });
}
