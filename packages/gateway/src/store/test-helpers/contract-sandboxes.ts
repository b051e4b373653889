import { beforeEach, describe, expect, test } from 'vitest';
import type { GatewayStore } from '../gateway-store.js';
import { sampleEvent, sampleSandbox } from './store-fixtures.js';

/** Sandboxes and their policy revisions: creation, CAS updates, revision versioning. */
export function describeSandboxContract(current: () => GatewayStore): void {
  let store: GatewayStore;
  beforeEach(() => {
    store = current();
  });

  describe('sandboxes', () => {
    test('create returns version 1 and reads back by id and by name', async () => {
      const created = await store.createSandbox(sampleSandbox());
      expect(created).toEqual({ ...sampleSandbox(), resourceVersion: 1, updatedAtMs: 1_000 });
      expect(await store.getSandbox('sb-1')).toEqual(created);
      expect(await store.getSandbox('demo')).toEqual(created);
      expect(await store.getSandbox('nope')).toBeUndefined();
    });

    test('optional fields absent at creation stay absent; present ones round-trip', async () => {
      const bare = await store.createSandbox(
        sampleSandbox({
          spec: { providers: [], env: {}, command: [], tty: false, deleteOnExit: true },
          labels: {},
        }),
      );
      expect(bare).not.toHaveProperty('phaseReason');
      expect(bare).not.toHaveProperty('mainExit');
      expect(bare.spec).not.toHaveProperty('from');
      const full = await store.createSandbox(
        sampleSandbox({
          id: 'sb-2',
          name: 'full',
          phase: 'Error',
          phaseReason: 'main exited',
          mainExit: { code: 3 },
        }),
      );
      expect(await store.getSandbox('sb-2')).toEqual(full);
      expect(full).toMatchObject({ phaseReason: 'main exited', mainExit: { code: 3 } });
    });

    test.for([
      { clash: 'the same name', id: 'sb-2', name: 'demo', names: 'demo' },
      { clash: 'the same id', id: 'sb-1', name: 'other', names: 'sb-1' },
      { clash: 'a name equal to an existing id', id: 'sb-2', name: 'sb-1', names: 'sb-1' },
      { clash: 'an id equal to an existing name', id: 'demo', name: 'other', names: 'demo' },
    ])('create with $clash is refused with ERR_SANDBOX_EXISTS', async ({ id, name, names }) => {
      await store.createSandbox(sampleSandbox());
      const refused = store.createSandbox(sampleSandbox({ id, name }));
      await expect(refused).rejects.toMatchObject({ code: 'ERR_SANDBOX_EXISTS' });
      await expect(refused).rejects.toThrow(names);
      // Positive control: a fresh id and name are accepted next to the existing one.
      await store.createSandbox(sampleSandbox({ id: 'sb-3', name: 'fresh' }));
      expect((await store.listSandboxes()).map((s) => s.id)).toEqual(['sb-1', 'sb-3']);
    });

    test('list is ordered by creation time, not insertion order', async () => {
      await store.createSandbox(sampleSandbox({ id: 'late', name: 'late', createdAtMs: 3_000 }));
      await store.createSandbox(sampleSandbox({ id: 'early', name: 'early', createdAtMs: 1 }));
      await store.createSandbox(sampleSandbox({ id: 'mid', name: 'mid', createdAtMs: 2_000 }));
      expect((await store.listSandboxes()).map((s) => s.id)).toEqual(['early', 'mid', 'late']);
    });

    test('update with the current version applies the patch and bumps the version', async () => {
      await store.createSandbox(sampleSandbox());
      const updated = await store.updateSandbox(
        'sb-1',
        1,
        { phase: 'Ready', currentPolicyVersion: 2, labels: { a: 'b' }, deleteRequested: true },
        5_000,
      );
      expect(updated).toEqual({
        ...sampleSandbox(),
        phase: 'Ready',
        currentPolicyVersion: 2,
        labels: { a: 'b' },
        deleteRequested: true,
        resourceVersion: 2,
        updatedAtMs: 5_000,
      });
      expect(await store.getSandbox('sb-1')).toEqual(updated);
    });

    test('a stale version is refused with ERR_CONFLICT and changes nothing', async () => {
      await store.createSandbox(sampleSandbox());
      await store.updateSandbox('sb-1', 1, { phase: 'Ready' }, 2_000);
      await expect(store.updateSandbox('sb-1', 1, { phase: 'Error' }, 3_000)).rejects.toMatchObject(
        { code: 'ERR_CONFLICT' },
      );
      expect(await store.getSandbox('sb-1')).toMatchObject({
        phase: 'Ready',
        resourceVersion: 2,
        updatedAtMs: 2_000,
      });
      // Positive control: the version just read wins.
      await expect(
        store.updateSandbox('sb-1', 2, { phase: 'Error' }, 3_000),
      ).resolves.toMatchObject({ phase: 'Error', resourceVersion: 3 });
    });

    test('update of an unknown sandbox is ERR_SANDBOX_NOT_FOUND', async () => {
      await expect(store.updateSandbox('ghost', 1, {}, 1)).rejects.toMatchObject({
        code: 'ERR_SANDBOX_NOT_FOUND',
      });
    });

    test('two updates with the same expected version: exactly one wins', async () => {
      await store.createSandbox(sampleSandbox());
      const results = await Promise.allSettled([
        store.updateSandbox('sb-1', 1, { phase: 'Ready' }, 2_000),
        store.updateSandbox('sb-1', 1, { phase: 'Error' }, 2_000),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.reason).toMatchObject({ code: 'ERR_CONFLICT' });
      expect((await store.getSandbox('sb-1'))?.resourceVersion).toBe(2);
    });

    test.for([
      { field: 'phaseReason', set: { phaseReason: 'boom' } },
      { field: 'mainExit', set: { mainExit: { signal: 'SIGKILL' } } },
    ] as const)('$field: absent keeps it, explicit undefined clears it', async ({ field, set }) => {
      await store.createSandbox(sampleSandbox());
      await store.updateSandbox('sb-1', 1, set, 2_000);
      const kept = await store.updateSandbox('sb-1', 2, { phase: 'Error' }, 3_000);
      expect(kept).toMatchObject(set);
      const cleared = await store.updateSandbox('sb-1', 3, { [field]: undefined }, 4_000);
      expect(cleared).not.toHaveProperty(field);
      expect(await store.getSandbox('sb-1')).not.toHaveProperty(field);
    });

    test('delete removes the sandbox and its revisions but keeps its events', async () => {
      await store.createSandbox(sampleSandbox());
      await store.addRevision('sb-1', { hash: 'h1', yaml: 'a: 1\n', createdAtMs: 1 });
      await store.appendEvents([sampleEvent('created')]);
      expect(await store.deleteSandbox('sb-1')).toBe(true);
      expect(await store.getSandbox('sb-1')).toBeUndefined();
      expect(await store.getRevision('sb-1', 1)).toBeUndefined();
      expect((await store.queryEvents({ sandboxId: 'sb-1' })).map((e) => e.payload)).toEqual([
        'created',
      ]);
      expect(await store.deleteSandbox('sb-1')).toBe(false);
      // The name and id are free again, and the new sandbox starts with no revisions.
      await store.createSandbox(sampleSandbox());
      expect(await store.listRevisions('sb-1')).toEqual([]);
    });
  });

  describe('policy revisions', () => {
    beforeEach(async () => {
      await store.createSandbox(sampleSandbox());
    });

    test('the first revision is version 1, Pending', async () => {
      const result = await store.addRevision('sb-1', {
        hash: 'h1',
        yaml: 'v: 1\n',
        createdAtMs: 7,
      });
      expect(result).toEqual({
        created: true,
        revision: {
          sandboxId: 'sb-1',
          version: 1,
          hash: 'h1',
          yaml: 'v: 1\n',
          status: 'Pending',
          createdAtMs: 7,
        },
      });
      expect(await store.getRevision('sb-1', 1)).toEqual(result.revision);
    });

    test('an identical re-push keeps the version; a different one supersedes Pending ones', async () => {
      await store.addRevision('sb-1', { hash: 'h1', yaml: 'v: 1\n', createdAtMs: 1 });
      await store.updateRevision('sb-1', 1, { status: 'Loaded', loadedAtMs: 2 });
      await store.addRevision('sb-1', { hash: 'h2', yaml: 'v: 2\n', createdAtMs: 3 });
      const same = await store.addRevision('sb-1', {
        hash: 'h2',
        yaml: 'v: 2\n',
        createdAtMs: 4,
      });
      expect(same).toMatchObject({ created: false, revision: { version: 2, createdAtMs: 3 } });
      const next = await store.addRevision('sb-1', {
        hash: 'h3',
        yaml: 'v: 3\n',
        createdAtMs: 5,
      });
      expect(next).toMatchObject({ created: true, revision: { version: 3, status: 'Pending' } });
      expect((await store.listRevisions('sb-1')).map((r) => [r.version, r.status])).toEqual([
        [3, 'Pending'],
        [2, 'Superseded'],
        [1, 'Loaded'],
      ]);
    });

    test('only the newest hash counts: going back to an older policy makes a new version', async () => {
      await store.addRevision('sb-1', { hash: 'A', yaml: 'a\n', createdAtMs: 1 });
      await store.addRevision('sb-1', { hash: 'B', yaml: 'b\n', createdAtMs: 2 });
      const back = await store.addRevision('sb-1', { hash: 'A', yaml: 'a\n', createdAtMs: 3 });
      expect(back).toMatchObject({ created: true, revision: { version: 3, hash: 'A' } });
    });

    test('adding to an unknown sandbox is ERR_SANDBOX_NOT_FOUND', async () => {
      await expect(
        store.addRevision('ghost', { hash: 'h', yaml: '', createdAtMs: 1 }),
      ).rejects.toMatchObject({ code: 'ERR_SANDBOX_NOT_FOUND' });
    });

    test('list is newest first and honours the limit', async () => {
      for (const hash of ['a', 'b', 'c', 'd']) {
        await store.addRevision('sb-1', { hash, yaml: `${hash}\n`, createdAtMs: 1 });
      }
      expect((await store.listRevisions('sb-1')).map((r) => r.version)).toEqual([4, 3, 2, 1]);
      expect((await store.listRevisions('sb-1', 2)).map((r) => r.version)).toEqual([4, 3]);
      expect(await store.getRevision('sb-1', 9)).toBeUndefined();
    });

    test('update sets the given fields and keeps the rest; a missing revision is ERR_CONFLICT', async () => {
      await store.addRevision('sb-1', { hash: 'h1', yaml: 'v\n', createdAtMs: 1 });
      await store.updateRevision('sb-1', 1, { proxyAckedAtMs: 10 });
      const failed = await store.updateRevision('sb-1', 1, { status: 'Failed', error: 'bad' });
      expect(failed).toMatchObject({ status: 'Failed', error: 'bad', proxyAckedAtMs: 10 });
      expect(failed).not.toHaveProperty('agentAckedAtMs');
      await expect(store.updateRevision('sb-1', 2, { status: 'Loaded' })).rejects.toMatchObject({
        code: 'ERR_CONFLICT',
      });
    });
  });
}
