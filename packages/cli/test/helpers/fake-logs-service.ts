import type { LogEntry, LogFilter, OpenShellServer } from '@openshell/proto';

/**
 * GetLogs/FollowLogs over a fixed backlog. The fake does not filter (that is the gateway's
 * job); it records each filter so tests check the flags' mapping, and FollowLogs sends the
 * backlog then `live` entries one by one, then stays open until the client cancels.
 */
export function createFakeLogsService(backlog: readonly LogEntry[], live: readonly LogEntry[]) {
  const filters: { method: 'getLogs' | 'followLogs'; filter: LogFilter | undefined }[] = [];
  const followCancelled: boolean[] = [];
  const handlers: Pick<OpenShellServer, 'getLogs' | 'followLogs'> = {
    getLogs(call, callback) {
      filters.push({ method: 'getLogs', filter: call.request.filter });
      callback(null, { entries: [...backlog] });
    },
    followLogs(call) {
      filters.push({ method: 'followLogs', filter: call.request.filter });
      const index = followCancelled.push(false) - 1;
      for (const entry of backlog) call.write({ entry });
      const timers = live.map((entry, i) => setTimeout(() => call.write({ entry }), 50 * (i + 1)));
      call.on('cancelled', () => {
        followCancelled[index] = true;
        timers.forEach(clearTimeout);
      });
    },
  };
  return { handlers, filters, followCancelled };
}
