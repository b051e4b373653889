/** Connection state the status line shows. */
export type LinkStatus =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'live' }
  | { readonly kind: 'down'; readonly message: string; readonly retryInMs: number };

export interface ReconnectDeps {
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
}

/**
 * Runs `attempt` (one stream: resolves when the gateway ends it, rejects on a transport
 * failure) again and again until `signal` aborts, reporting the link state. The delay doubles
 * after each failure up to maxDelayMs, so a gateway that is down for an hour costs a few
 * requests a minute, and resets once an attempt reported `live` (it saw data).
 */
export async function runWithReconnect(
  attempt: (markLive: () => void, signal: AbortSignal) => Promise<void>,
  onStatus: (status: LinkStatus) => void,
  signal: AbortSignal,
  deps: ReconnectDeps,
): Promise<void> {
  const min = deps.minDelayMs ?? 500;
  const max = deps.maxDelayMs ?? 10_000;
  let delay = min;
  while (!signal.aborted) {
    let live = false;
    onStatus({ kind: 'connecting' });
    let message = 'the gateway ended the stream';
    try {
      await attempt(() => {
        live = true;
        delay = min;
        onStatus({ kind: 'live' });
      }, signal);
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
    if (signal.aborted) return;
    const wait = live ? min : delay;
    onStatus({ kind: 'down', message, retryInMs: wait });
    await deps.sleep(wait, signal);
    if (!live) delay = Math.min(max, delay * 2);
  }
}

/** setTimeout as a promise that resolves early when `signal` aborts. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
