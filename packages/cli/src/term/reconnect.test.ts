import { describe, expect, test } from 'vitest';
import { runWithReconnect, sleepUnlessAborted, type LinkStatus } from './reconnect.js';

describe('runWithReconnect', () => {
  test('backs off 100, 200, 400, capped at 500, then resets after a live attempt', async () => {
    const stop = new AbortController();
    const sleeps: number[] = [];
    const statuses: LinkStatus['kind'][] = [];
    let attempt = 0;
    await runWithReconnect(
      (markLive) => {
        attempt += 1;
        if (attempt === 5) {
          markLive();
          return Promise.resolve();
        }
        if (attempt === 7) stop.abort();
        return Promise.reject(new Error(`refused ${attempt}`));
      },
      (status) => statuses.push(status.kind),
      stop.signal,
      {
        minDelayMs: 100,
        maxDelayMs: 500,
        sleep: (ms) => {
          sleeps.push(ms);
          return Promise.resolve();
        },
      },
    );
    expect(sleeps).toEqual([100, 200, 400, 500, 100, 100]);
    expect(statuses).toContain('live');
    expect(attempt).toBe(7);
  });

  test('reports the failure message while down', async () => {
    const stop = new AbortController();
    const seen: LinkStatus[] = [];
    await runWithReconnect(
      () => Promise.reject(new Error('cannot reach the gateway')),
      (status) => {
        seen.push(status);
        if (status.kind === 'down') stop.abort();
      },
      stop.signal,
      { sleep: () => Promise.resolve(), minDelayMs: 250 },
    );
    expect(seen).toEqual([
      { kind: 'connecting' },
      { kind: 'down', message: 'cannot reach the gateway', retryInMs: 250 },
    ]);
  });
});

describe('sleepUnlessAborted', () => {
  test('an abort ends the wait early; without one it waits', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const waiting = sleepUnlessAborted(60_000, stop.signal);
    stop.abort();
    await waiting;
    expect(Date.now() - started).toBeLessThan(1_000);
    let done = false;
    void sleepUnlessAborted(30, new AbortController().signal).then(() => (done = true));
    expect(done).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(done).toBe(true);
  });
});
