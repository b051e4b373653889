import type { LogEntry } from '@openshell/proto';
import { useEffect, useMemo, useRef, useState } from 'react';
import {
  clearTally,
  EMPTY_TALLY,
  tallyDecision,
  withTally,
  type DecisionTally,
} from './decision-tally.js';
import { appendLogLines, DEFAULT_LOG_CAPACITY, type LogLine } from './log-buffer.js';
import type { PolicyState } from './policy-pane.js';
import { runWithReconnect, type LinkStatus, type ReconnectDeps } from './reconnect.js';
import {
  applyWatchEvent,
  EMPTY_SANDBOX_MAP,
  resetForResync,
  type SandboxMapState,
} from './sandbox-map.js';
import type { TermGateway } from './term-gateway.js';

/** Log entries arriving within this window are rendered together (one redraw per burst). */
const LOG_FLUSH_MS = 50;

/**
 * The live sandbox map from WatchSandboxes, re-synced after every reconnect. `latest` is
 * updated as each event arrives, before React renders, so a key pressed in between acts on
 * the sandboxes the gateway reported, not on the previous frame's.
 */
export function useSandboxWatch(
  gateway: TermGateway,
  reconnect: ReconnectDeps,
): { map: SandboxMapState; latest: { readonly current: SandboxMapState }; link: LinkStatus } {
  const latest = useRef<SandboxMapState>(EMPTY_SANDBOX_MAP);
  const [map, setMap] = useState<SandboxMapState>(EMPTY_SANDBOX_MAP);
  const [link, setLink] = useState<LinkStatus>({ kind: 'connecting' });
  const tally = useRef<DecisionTally>(EMPTY_TALLY);
  const [tallyState, setTally] = useState<DecisionTally>(EMPTY_TALLY);
  const updateTally = (next: DecisionTally): void => {
    tally.current = next;
    setTally(next);
  };
  useEffect(() => {
    const stop = new AbortController();
    void runWithReconnect(
      async (markLive, signal) => {
        await gateway.followDecisions((entry) => {
          markLive();
          updateTally(tallyDecision(tally.current, entry));
        }, signal);
      },
      () => undefined,
      stop.signal,
      reconnect,
    );
    return () => stop.abort();
  }, [gateway, reconnect]);
  useEffect(() => {
    const stop = new AbortController();
    const update = (next: SandboxMapState): void => {
      latest.current = next;
      setMap(next);
    };
    void runWithReconnect(
      async (markLive, signal) => {
        let first = true;
        await gateway.watchSandboxes((event) => {
          if (first) {
            first = false;
            update(resetForResync(latest.current));
            updateTally(clearTally(tally.current));
            markLive();
          }
          update(applyWatchEvent(latest.current, event));
          if (event.sandbox !== undefined) updateTally(clearTally(tally.current, event.sandbox.id));
        }, signal);
      },
      setLink,
      stop.signal,
      reconnect,
    );
    return () => stop.abort();
  }, [gateway, reconnect]);
  const shown = useMemo(
    () => ({ ...map, sandboxes: map.sandboxes.map((s) => withTally(s, tallyState)) }),
    [map, tallyState],
  );
  return { map: shown, latest, link };
}

/**
 * The selected sandbox's decision log from FollowLogs, batched so a burst of thousands of
 * entries costs one render. A reconnect replays the backlog, so the buffer restarts then.
 */
export function useLogFollow(
  gateway: TermGateway,
  sandbox: string | undefined,
  reconnect: ReconnectDeps,
  capacity: number = DEFAULT_LOG_CAPACITY,
): readonly LogLine[] {
  const [lines, setLines] = useState<readonly LogLine[]>([]);
  useEffect(() => {
    setLines([]);
    if (sandbox === undefined) return undefined;
    const stop = new AbortController();
    let pending: LogEntry[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      timer = undefined;
      const batch = pending;
      pending = [];
      setLines((current) => appendLogLines(current, batch, capacity));
    };
    void runWithReconnect(
      async (markLive, signal) => {
        let first = true;
        await gateway.followLogs(
          sandbox,
          (entry) => {
            if (first) {
              first = false;
              pending = [];
              setLines([]);
              markLive();
            }
            pending.push(entry);
            timer ??= setTimeout(flush, LOG_FLUSH_MS);
          },
          signal,
        );
      },
      () => undefined,
      stop.signal,
      reconnect,
    );
    return () => {
      stop.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [gateway, sandbox, reconnect, capacity]);
  return lines;
}

/** The effective policy, fetched when the policy view opens and again when its version changes. */
export function usePolicy(
  gateway: TermGateway,
  sandbox: string | undefined,
  version: number,
  active: boolean,
): PolicyState {
  const [policy, setPolicy] = useState<PolicyState>({ kind: 'loading' });
  useEffect(() => {
    if (!active || sandbox === undefined) return undefined;
    let current = true;
    setPolicy({ kind: 'loading' });
    gateway.getPolicyYaml(sandbox).then(
      (yaml) => {
        if (current) setPolicy({ kind: 'loaded', yaml });
      },
      (err: unknown) => {
        if (current)
          setPolicy({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
      },
    );
    return () => {
      current = false;
    };
  }, [gateway, sandbox, version, active]);
  return policy;
}
