import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { GatewayStore } from '../gateway-store.js';
import { openSqliteStore, type SqliteStoreOptions } from '../open-sqlite-store.js';

export interface SqliteTempDir {
  /** The per-test temp dir (removed after the test). */
  readonly dir: () => string;
  /** Database and key paths in nested dirs that do not exist yet: the store creates them. */
  readonly paths: () => SqliteStoreOptions;
  /** Opens a store on paths() (or the given options); it is closed after the test. */
  readonly openStore: (options?: SqliteStoreOptions) => Promise<GatewayStore>;
  /** Closes every store opened so far, as a process exit would before a restart. */
  readonly closeAll: () => Promise<void>;
}

/** Registers a fresh temp dir per test and closes the stores the test opened. */
export function useSqliteTempDir(): SqliteTempDir {
  let dir: string | undefined;
  const opened: GatewayStore[] = [];
  function requireDir(): string {
    if (dir === undefined) throw new Error('temp dir used outside a test');
    return dir;
  }
  async function closeAll(): Promise<void> {
    for (const store of opened.splice(0)) await store.close();
  }
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sqlite-store-'));
  });
  afterEach(async () => {
    await closeAll();
    await rm(requireDir(), { recursive: true, force: true });
    dir = undefined;
  });
  const paths = (): SqliteStoreOptions => ({
    path: join(requireDir(), 'db', 'state.db'),
    secretKeyPath: join(requireDir(), 'key', 'secret.key'),
  });
  return {
    dir: requireDir,
    paths,
    openStore: async (options = paths()) => {
      const store = await openSqliteStore(options);
      opened.push(store);
      return store;
    },
    closeAll,
  };
}
