import { randomBytes } from 'node:crypto';
import { chmod, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import type { GatewayStore } from './gateway-store.js';
import { useSqliteTempDir } from './test-helpers/sqlite-temp-dir.js';

const SECRET = 'sk-live-PLAINTEXT-7f3a9c1e5b';
const ROUTE_SECRET = 'sk-ant-ROUTEKEY-0d2e4f6a8b';

describe('SQLite store secrets at rest', () => {
  const temp = useSqliteTempDir();

  test('secret values never appear in the database files; names do', async () => {
    const { path } = temp.paths();
    const store = await temp.openStore();
    await store.createProvider(
      {
        name: 'visible-provider-name',
        type: 'generic',
        credentials: { API_KEY: SECRET },
        allowedHosts: [],
      },
      1,
    );
    await store.setInferenceRoute(
      {
        name: 'visible-route-name',
        kind: 'frontier',
        baseUrl: 'https://x.test',
        api: 'openai',
        model: 'm',
        apiKey: ROUTE_SECRET,
      },
      1,
    );
    async function allBytes(): Promise<string> {
      const parts = await Promise.all(
        ['', '-wal', '-shm'].map((suffix) =>
          readFile(`${path}${suffix}`).catch(() => Buffer.alloc(0)),
        ),
      );
      return Buffer.concat(parts).toString('latin1');
    }
    // While open (the rows are still in the WAL) and after close (checkpointed into the
    // main file); the names are the positive control that the grep sees the rows at all.
    const whileOpen = await allBytes();
    await temp.closeAll();
    const afterClose = await allBytes();
    for (const bytes of [whileOpen, afterClose]) {
      expect(bytes).toContain('visible-provider-name');
      expect(bytes).toContain('visible-route-name');
      expect(bytes).not.toContain(SECRET);
      expect(bytes).not.toContain(ROUTE_SECRET);
    }
  });
});

describe('SQLite store tampering', () => {
  const temp = useSqliteTempDir();

  async function seed(): Promise<GatewayStore> {
    const store = await temp.openStore();
    for (const name of ['alpha', 'beta']) {
      await store.createProvider(
        { name, type: 'generic', credentials: { TOKEN: `${SECRET}-${name}` }, allowedHosts: [] },
        1,
      );
    }
    for (const name of ['r1', 'r2']) {
      await store.setInferenceRoute(
        {
          name,
          kind: 'local',
          baseUrl: 'http://127.0.0.1:1',
          api: 'openai',
          model: 'm',
          apiKey: `${ROUTE_SECRET}-${name}`,
        },
        1,
      );
    }
    // Positive control: untouched rows decrypt.
    expect(await store.providerSecrets('alpha')).toEqual({ TOKEN: `${SECRET}-alpha` });
    expect(await store.inferenceRouteKeys()).toEqual({
      r1: `${ROUTE_SECRET}-r1`,
      r2: `${ROUTE_SECRET}-r2`,
    });
    return store;
  }

  function editRaw(edit: (raw: Database.Database) => void): void {
    const raw = new Database(temp.paths().path);
    try {
      edit(raw);
    } finally {
      raw.close();
    }
  }

  async function expectUndecryptable(promise: Promise<unknown>, names: string): Promise<void> {
    const error: unknown = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ERR_INTERNAL' });
    const message = (error as Error).message;
    expect(message).toContain('cannot decrypt the stored secret');
    expect(message).toContain(names);
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(ROUTE_SECRET);
  }

  test('a flipped ciphertext byte fails to decrypt; the other provider still works', async () => {
    const store = await seed();
    editRaw((raw) => {
      const row = raw
        .prepare<[], { provider_id: string; value: Buffer }>(
          `SELECT provider_id, value FROM provider_credentials
           JOIN providers ON id = provider_id WHERE name = 'alpha'`,
        )
        .get()!;
      const value = Buffer.from(row.value);
      value[value.length - 1]! ^= 0x01;
      raw
        .prepare('UPDATE provider_credentials SET value = ? WHERE provider_id = ?')
        .run(value, row.provider_id);
    });
    await expectUndecryptable(store.providerSecrets('alpha'), '"alpha"');
    expect(await store.providerSecrets('beta')).toEqual({ TOKEN: `${SECRET}-beta` });
  });

  test('a truncated blob fails to decrypt', async () => {
    const store = await seed();
    editRaw((raw) => {
      raw.prepare("UPDATE inference_routes SET api_key = x'0102' WHERE name = 'r1'").run();
    });
    await expectUndecryptable(store.inferenceRouteKeys(), 'truncated');
  });

  test('credential blobs swapped between providers fail to decrypt', async () => {
    const store = await seed();
    editRaw((raw) => {
      const rows = raw
        .prepare<[], { provider_id: string; value: Buffer }>(
          'SELECT provider_id, value FROM provider_credentials',
        )
        .all();
      const swap = raw.prepare('UPDATE provider_credentials SET value = ? WHERE provider_id = ?');
      swap.run(rows[1]!.value, rows[0]!.provider_id);
      swap.run(rows[0]!.value, rows[1]!.provider_id);
    });
    await expectUndecryptable(store.providerSecrets('alpha'), '"TOKEN"');
    await expectUndecryptable(store.providerSecrets('beta'), '"TOKEN"');
  });

  test('route keys swapped between routes fail to decrypt', async () => {
    const store = await seed();
    editRaw((raw) => {
      const keyOf = raw.prepare<[string], { api_key: Buffer }>(
        'SELECT api_key FROM inference_routes WHERE name = ?',
      );
      const [k1, k2] = [keyOf.get('r1')!.api_key, keyOf.get('r2')!.api_key];
      const set = raw.prepare('UPDATE inference_routes SET api_key = ? WHERE name = ?');
      set.run(k2, 'r1');
      set.run(k1, 'r2');
    });
    await expectUndecryptable(store.inferenceRouteKeys(), 'inference route');
  });

  test('a replaced key file makes stored secrets undecryptable, not readable', async () => {
    await seed();
    await temp.closeAll();
    await writeFile(temp.paths().secretKeyPath, randomBytes(32), { mode: 0o600 });
    const reopened = await temp.openStore();
    expect(await reopened.listProviders()).toHaveLength(2);
    await expectUndecryptable(reopened.providerSecrets('alpha'), '"alpha"');
  });
});

describe('SQLite store secret key file', () => {
  const temp = useSqliteTempDir();

  test.for([
    { mode: 0o600, accepted: true },
    { mode: 0o400, accepted: true },
    { mode: 0o640, accepted: false },
    { mode: 0o604, accepted: false },
    { mode: 0o644, accepted: false },
    { mode: 0o660, accepted: false },
  ])('mode $mode accepted: $accepted', async ({ mode, accepted }) => {
    await temp.openStore();
    await temp.closeAll();
    await chmod(temp.paths().secretKeyPath, mode);
    const opening = temp.openStore();
    if (accepted) {
      await expect(opening).resolves.toBeDefined();
    } else {
      await expect(opening).rejects.toMatchObject({
        code: 'ERR_INTERNAL',
        message: expect.stringContaining('chmod 600') as unknown,
      });
    }
  });

  test.for([
    { bytes: 32, accepted: true },
    { bytes: 31, accepted: false },
    { bytes: 33, accepted: false },
    { bytes: 0, accepted: false },
  ])('a $bytes-byte key accepted: $accepted', async ({ bytes, accepted }) => {
    const keyPath = join(temp.dir(), 'given.key');
    await writeFile(keyPath, randomBytes(bytes), { mode: 0o600 });
    const opening = temp.openStore({ path: temp.paths().path, secretKeyPath: keyPath });
    if (accepted) {
      await expect(opening).resolves.toBeDefined();
    } else {
      await expect(opening).rejects.toMatchObject({
        code: 'ERR_INTERNAL',
        message: expect.stringContaining(`holds ${bytes} bytes, expected 32`) as unknown,
      });
    }
  });

  test('a symlink at the key path is refused; the real file is accepted', async () => {
    const real = join(temp.dir(), 'real.key');
    await writeFile(real, randomBytes(32), { mode: 0o600 });
    const link = join(temp.dir(), 'link.key');
    await symlink(real, link);
    const { path } = temp.paths();
    await expect(temp.openStore({ path, secretKeyPath: link })).rejects.toMatchObject({
      code: 'ERR_INTERNAL',
      message: expect.stringContaining('link.key') as unknown,
    });
    await expect(temp.openStore({ path, secretKeyPath: real })).resolves.toBeDefined();
  });
});
