import { beforeEach, describe, expect, test } from 'vitest';
import type { EventQuery, GatewayStore, NewEvent } from '../gateway-store.js';
import { idAt, sampleEvent } from './store-fixtures.js';

/** The event log: ordered append, filtered queries, retention. */
export function describeEventsContract(current: () => GatewayStore): void {
  let store: GatewayStore;
  beforeEach(() => {
    store = current();
  });

  describe('events', () => {
    test('append returns increasing ids and the stored fields', async () => {
      const input = [sampleEvent('one'), sampleEvent('two', { level: 'warn', sandboxId: '' })];
      const stored = await store.appendEvents(input);
      expect(stored.map(({ id: _id, ...rest }) => rest)).toEqual(input);
      expect(idAt(stored, 1)).toBeGreaterThan(idAt(stored, 0));
      expect(await store.queryEvents({})).toEqual(stored);
    });

    const mixed: readonly NewEvent[] = [
      sampleEvent('a-proxy-debug', { timeMs: 100, level: 'debug' }),
      sampleEvent('a-gateway-info', { timeMs: 200, source: 'gateway', kind: 'lifecycle' }),
      sampleEvent('b-proxy-warn', { timeMs: 300, level: 'warn', sandboxId: 'sb-2' }),
      sampleEvent('a-sandbox-error', { timeMs: 400, source: 'sandbox', level: 'error' }),
      sampleEvent('none-gateway-info', { timeMs: 500, source: 'gateway', sandboxId: '' }),
    ];
    test.for<{ query: EventQuery; expected: string[] }>([
      { query: {}, expected: mixed.map((e) => e.payload) },
      {
        query: { sandboxId: 'sb-1' },
        expected: ['a-proxy-debug', 'a-gateway-info', 'a-sandbox-error'],
      },
      {
        query: { sinceMs: 300 },
        expected: ['b-proxy-warn', 'a-sandbox-error', 'none-gateway-info'],
      },
      {
        query: { sources: ['gateway'] },
        expected: ['a-gateway-info', 'none-gateway-info'],
      },
      {
        query: { sources: ['proxy', 'sandbox'] },
        expected: ['a-proxy-debug', 'b-proxy-warn', 'a-sandbox-error'],
      },
      { query: { sources: [] }, expected: mixed.map((e) => e.payload) },
      { query: { minLevel: 'debug' }, expected: mixed.map((e) => e.payload) },
      {
        query: { minLevel: 'info' },
        expected: ['a-gateway-info', 'b-proxy-warn', 'a-sandbox-error', 'none-gateway-info'],
      },
      {
        query: { minLevel: 'warn' },
        expected: ['b-proxy-warn', 'a-sandbox-error'],
      },
      { query: { minLevel: 'error' }, expected: ['a-sandbox-error'] },
      {
        query: { sandboxId: 'sb-1', minLevel: 'info', sources: ['gateway', 'sandbox'] },
        expected: ['a-gateway-info', 'a-sandbox-error'],
      },
      { query: { limit: 2 }, expected: ['a-sandbox-error', 'none-gateway-info'] },
      { query: { sandboxId: 'sb-1', limit: 1 }, expected: ['a-sandbox-error'] },
      { query: { sandboxId: 'nobody' }, expected: [] },
    ])('query $query', async ({ query, expected }) => {
      await store.appendEvents(mixed);
      expect((await store.queryEvents(query)).map((e) => e.payload)).toEqual(expected);
    });

    test('afterId resumes after the last event seen', async () => {
      const first = await store.appendEvents([sampleEvent('1'), sampleEvent('2')]);
      await store.appendEvents([sampleEvent('3')]);
      const after = await store.queryEvents({ afterId: idAt(first, 1) });
      expect(after.map((e) => e.payload)).toEqual(['3']);
      expect((await store.queryEvents({ afterId: 0 })).map((e) => e.payload)).toEqual([
        '1',
        '2',
        '3',
      ]);
    });

    test('the default limit returns the newest 200, oldest first', async () => {
      await store.appendEvents(
        Array.from({ length: 250 }, (_, i) => sampleEvent(String(i), { timeMs: i })),
      );
      const page = await store.queryEvents({});
      expect(page).toHaveLength(200);
      expect(page[0]?.payload).toBe('50');
      expect(page.at(-1)?.payload).toBe('249');
    });

    test('prune deletes by age, then keeps the newest maxCount', async () => {
      await store.appendEvents(
        Array.from({ length: 10 }, (_, i) => sampleEvent(String(i), { timeMs: i * 100 })),
      );
      // Age: now 1000, maxAge 450 → everything before 550 goes (0..5), 6..9 stay.
      expect(await store.pruneEvents({ maxAgeMs: 450, maxCount: 100 }, 1_000)).toBe(6);
      expect((await store.queryEvents({})).map((e) => e.payload)).toEqual(['6', '7', '8', '9']);
      // Count: keep the newest 3.
      expect(await store.pruneEvents({ maxAgeMs: 1_000_000, maxCount: 3 }, 1_000)).toBe(1);
      expect((await store.queryEvents({})).map((e) => e.payload)).toEqual(['7', '8', '9']);
      // Nothing beyond either bound: nothing deleted.
      expect(await store.pruneEvents({ maxAgeMs: 1_000_000, maxCount: 3 }, 1_000)).toBe(0);
    });

    test('ids are not reused after pruning everything', async () => {
      const before = await store.appendEvents([sampleEvent('old')]);
      expect(await store.pruneEvents({ maxAgeMs: 0, maxCount: 0 }, 10_000)).toBe(1);
      const after = await store.appendEvents([sampleEvent('new')]);
      expect(idAt(after, 0)).toBeGreaterThan(idAt(before, 0));
    });
  });
}
