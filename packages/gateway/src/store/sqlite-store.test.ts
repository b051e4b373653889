import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import type { GatewayStore } from './gateway-store.js';
import { openSqliteStore } from './open-sqlite-store.js';
import { SCHEMA_VERSION } from './sqlite-migrations.js';
import { describeStoreContract } from './test-helpers/store-contract.js';
import { sampleEvent, sampleSandbox } from './test-helpers/store-fixtures.js';
import { useSqliteTempDir } from './test-helpers/sqlite-temp-dir.js';

describeStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'store-contract-'));
  const store = await openSqliteStore({
    path: join(dir, 'state.db'),
    secretKeyPath: join(dir, 'secret.key'),
  });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** Runs a TypeScript helper from test-helpers/ in its own Node process (through tsx). */
function spawnTsx(
  helper: string,
  args: readonly string[],
): ChildProcessByStdio<Writable, Readable, null> {
  const script = fileURLToPath(new URL(`./test-helpers/${helper}`, import.meta.url));
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    // The package dir, so `--import tsx` resolves the package's own devDependency.
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('SQLite store files', () => {
  const temp = useSqliteTempDir();

  test('database, WAL, SHM and key file are 0600; created parent dirs 0700', async () => {
    const { path, secretKeyPath } = temp.paths();
    const store = await temp.openStore();
    await store.createSandbox(sampleSandbox());
    for (const file of [path, `${path}-wal`, `${path}-shm`, secretKeyPath]) {
      expect({ file, mode: await modeOf(file) }).toEqual({ file, mode: 0o600 });
    }
    expect(await modeOf(join(temp.dir(), 'db'))).toBe(0o700);
    expect(await modeOf(join(temp.dir(), 'key'))).toBe(0o700);
    expect((await stat(secretKeyPath)).size).toBe(32);
  });

  test('an existing world-readable database file is tightened to 0600', async () => {
    await temp.openStore();
    await temp.closeAll();
    await chmod(temp.paths().path, 0o644);
    await temp.openStore();
    expect(await modeOf(temp.paths().path)).toBe(0o600);
  });

  test('the database is in WAL mode with foreign keys, at the current schema version', async () => {
    await temp.openStore();
    const raw = new Database(temp.paths().path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.prepare('SELECT max(version) AS v FROM schema_version').get()).toEqual({
        v: SCHEMA_VERSION,
      });
      expect(raw.pragma('foreign_key_list(policy_revisions)')).toEqual([
        expect.objectContaining({ table: 'sandboxes', on_delete: 'CASCADE' }),
      ]);
    } finally {
      raw.close();
    }
  });

  test('a database from a newer schema is refused; the current one reopens', async () => {
    await temp.openStore();
    await temp.closeAll();
    await temp.openStore();
    await temp.closeAll();
    const raw = new Database(temp.paths().path);
    raw
      .prepare('INSERT INTO schema_version (version, applied_at_ms) VALUES (?, 0)')
      .run(SCHEMA_VERSION + 1);
    raw.close();
    await expect(temp.openStore()).rejects.toMatchObject({
      code: 'ERR_INTERNAL',
      message: expect.stringContaining(`schema version ${SCHEMA_VERSION + 1}`) as unknown,
    });
  });
});

describe('SQLite store durability and concurrency', () => {
  const temp = useSqliteTempDir();

  test('every record survives closing and reopening in a fresh store', async () => {
    const first = await temp.openStore();
    await first.createSandbox(sampleSandbox());
    const sandbox = await first.updateSandbox('sb-1', 1, { phase: 'Ready', phaseReason: 'up' }, 9);
    const { revision } = await first.addRevision('sb-1', {
      hash: 'h',
      yaml: 'y\n',
      createdAtMs: 3,
    });
    const provider = await first.createProvider(
      {
        name: 'gh',
        type: 'github',
        credentials: { GITHUB_TOKEN: 'tok' },
        allowedHosts: ['github.com'],
      },
      4,
    );
    const route = await first.setInferenceRoute(
      {
        name: 'claude',
        kind: 'frontier',
        baseUrl: 'https://x.test',
        api: 'anthropic',
        model: 'm',
        apiKey: 'key',
      },
      5,
    );
    const events = await first.appendEvents([sampleEvent('e1'), sampleEvent('e2')]);
    await temp.closeAll();

    const second = await temp.openStore();
    expect(await second.listSandboxes()).toEqual([sandbox]);
    expect(await second.listRevisions('sb-1')).toEqual([revision]);
    expect(await second.listProviders()).toEqual([provider]);
    expect(await second.providerSecrets('gh')).toEqual({ GITHUB_TOKEN: 'tok' });
    expect(await second.listInferenceRoutes()).toEqual([route]);
    expect(await second.inferenceRouteKeys()).toEqual({ claude: 'key' });
    expect(await second.queryEvents({})).toEqual(events);
  });

  // Real processes on a loaded two-core machine: tsx start-up alone takes seconds.
  test('a writer killed with SIGKILL loses nothing it committed', async () => {
    const { path, secretKeyPath } = temp.paths();
    const child = spawnTsx('crash-writer-child.ts', [path, secretKeyPath]);
    const exited = once(child, 'exit');
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('written');
    child.kill('SIGKILL');
    await exited;
    const reopened = await temp.openStore();
    expect(await reopened.listSandboxes()).toEqual([
      expect.objectContaining({ id: 'sb-1', resourceVersion: 1 }),
    ]);
    expect(await reopened.listRevisions('sb-1')).toEqual([expect.objectContaining({ version: 1 })]);
    expect(await reopened.providerSecrets('gh')).toEqual({ GITHUB_TOKEN: 'tok' });
    expect(await reopened.inferenceRouteKeys()).toEqual({ r: 'k' });
    expect((await reopened.queryEvents({})).map((e) => e.payload)).toEqual(['before-crash']);
  }, 60_000);

  test('two connections on one version: exactly one wins, the other ERR_CONFLICT', async () => {
    const a = await temp.openStore();
    const b = await temp.openStore();
    await a.createSandbox(sampleSandbox());
    expect((await b.getSandbox('sb-1'))?.resourceVersion).toBe(1);
    const results = await Promise.allSettled([
      a.updateSandbox('sb-1', 1, { phase: 'Ready' }, 2),
      b.updateSandbox('sb-1', 1, { phase: 'Error' }, 2),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(results.find((r) => r.status === 'rejected')?.reason).toMatchObject({
      code: 'ERR_CONFLICT',
    });
    expect((await a.getSandbox('sb-1'))?.resourceVersion).toBe(2);
    expect((await b.getSandbox('sb-1'))?.resourceVersion).toBe(2);
  });

  test('three processes released at once on one version: one wins, two ERR_CONFLICT', async () => {
    const { path, secretKeyPath } = temp.paths();
    const seed = await temp.openStore();
    await seed.createSandbox(sampleSandbox());
    const contenders = ['Ready', 'Error', 'Ready'].map((phase) =>
      spawnTsx('cas-race-child.ts', [path, secretKeyPath, phase]),
    );
    const exits = contenders.map((proc) => once(proc, 'exit'));
    const lines = contenders.map((proc) =>
      createInterface({ input: proc.stdout })[Symbol.asyncIterator](),
    );
    // Every contender has its connection open before any is told to write.
    for (const next of lines) expect((await next.next()).value).toBe('ready');
    for (const proc of contenders) proc.stdin.end('go\n');
    const outcomes = await Promise.all(
      lines.map(async (next) => JSON.parse(String((await next.next()).value)) as unknown),
    );
    await Promise.all(exits);
    expect(outcomes.filter((o) => (o as { won: boolean }).won)).toEqual([
      { won: true, version: 2 },
    ]);
    expect(outcomes.filter((o) => !(o as { won: boolean }).won)).toEqual(
      Array.from({ length: 2 }, () => ({ won: false, code: 'ERR_CONFLICT' })),
    );
    expect((await seed.getSandbox('sb-1'))?.resourceVersion).toBe(2);
  }, 60_000);

  test('a closed store rejects calls; an open one pings', async () => {
    const store = await temp.openStore();
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    await expect(store.ping()).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
    await expect(store.listSandboxes()).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
  });

  test.for([
    { what: 'a negative limit', run: (s: GatewayStore) => s.queryEvents({ limit: -1 }) },
    { what: 'a fractional limit', run: (s: GatewayStore) => s.queryEvents({ limit: 1.5 }) },
    {
      what: 'a negative maxCount',
      run: (s: GatewayStore) => s.pruneEvents({ maxAgeMs: 1, maxCount: -1 }, 1),
    },
  ])('$what is refused rather than read as "no limit"', async ({ run }) => {
    const store = await temp.openStore();
    await store.appendEvents([sampleEvent('x'), sampleEvent('y')]);
    await expect(run(store)).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
    // Positive control: a valid bound works and nothing was pruned.
    expect(await store.queryEvents({ limit: 1 })).toHaveLength(1);
    expect(await store.queryEvents({})).toHaveLength(2);
  });
});
