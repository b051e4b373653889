import type BetterSqlite3 from 'better-sqlite3';
import { OpenShellError } from '@openshell/policy-schema';

/**
 * The SQLite schema as an append-only list of migrations. A released migration is never
 * edited: a later gateway adds version N+1, and every open applies whatever the file lacks
 * inside one transaction, so a crash mid-migration leaves the previous schema intact.
 */

interface Migration {
  readonly version: number;
  readonly sql: string;
}

// CHECK constraints repeat the TypeScript unions so a bad write fails in the database
// instead of producing a record the gateway cannot interpret later.
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE sandboxes (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL UNIQUE,
        labels TEXT NOT NULL CHECK (json_valid(labels)),
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        resource_version INTEGER NOT NULL CHECK (resource_version >= 1),
        phase TEXT NOT NULL CHECK (phase IN ('Provisioning', 'Ready', 'Error', 'Deleting')),
        phase_reason TEXT,
        main_exit TEXT CHECK (main_exit IS NULL OR json_valid(main_exit)),
        spec TEXT NOT NULL CHECK (json_valid(spec)),
        current_policy_version INTEGER NOT NULL,
        delete_requested INTEGER NOT NULL CHECK (delete_requested IN (0, 1)),
        token_sha256 TEXT NOT NULL
      ) STRICT;
      CREATE INDEX sandboxes_by_creation ON sandboxes (created_at_ms);

      CREATE TABLE policy_revisions (
        sandbox_id TEXT NOT NULL REFERENCES sandboxes (id) ON DELETE CASCADE,
        version INTEGER NOT NULL CHECK (version >= 1),
        hash TEXT NOT NULL,
        yaml TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('Pending', 'Loaded', 'Failed', 'Superseded')),
        created_at_ms INTEGER NOT NULL,
        loaded_at_ms INTEGER,
        error TEXT,
        proxy_acked_at_ms INTEGER,
        agent_acked_at_ms INTEGER,
        PRIMARY KEY (sandbox_id, version)
      ) STRICT;

      CREATE TABLE providers (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        allowed_hosts TEXT NOT NULL CHECK (json_valid(allowed_hosts)),
        created_at_ms INTEGER NOT NULL
      ) STRICT;

      -- One row per credential so names are listable without decrypting; value is a
      -- SecretBox blob bound to (provider id, key).
      CREATE TABLE provider_credentials (
        provider_id TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (provider_id, key)
      ) STRICT;

      CREATE TABLE inference_routes (
        name TEXT PRIMARY KEY NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('local', 'frontier')),
        base_url TEXT NOT NULL,
        api TEXT NOT NULL CHECK (api IN ('openai', 'anthropic')),
        model TEXT NOT NULL,
        api_key BLOB,
        updated_at_ms INTEGER NOT NULL
      ) STRICT;

      -- AUTOINCREMENT: ids are never reused, even after pruning deletes the newest rows,
      -- so a follower resuming "after id N" cannot skip events that reuse old ids.
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time_ms INTEGER NOT NULL,
        sandbox_id TEXT NOT NULL,
        sandbox_name TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('gateway', 'sandbox', 'proxy')),
        level TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
        kind TEXT NOT NULL CHECK (kind IN ('decision', 'lifecycle')),
        payload TEXT NOT NULL
      ) STRICT;
      -- Per-sandbox log queries walk newest-first by id; pruning by age scans time.
      CREATE INDEX events_by_sandbox ON events (sandbox_id, id);
      CREATE INDEX events_by_time ON events (time_ms);
    `,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/**
 * Brings the database to SCHEMA_VERSION; refuses a database written by a newer gateway,
 * whose schema this build would misread or damage.
 */
export function migrateSqlite(db: BetterSqlite3.Database, path: string): void {
  // IMMEDIATE takes the write lock first, so two gateways opening one fresh file cannot
  // both decide to apply version 1.
  db.transaction(function applyMigrations() {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL) STRICT',
    );
    const row = db
      .prepare<[], { version: number | null }>('SELECT max(version) AS version FROM schema_version')
      .get();
    const current = row?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new OpenShellError(
        'ERR_INTERNAL',
        `state database ${path} has schema version ${current}, newer than this gateway's ` +
          `${SCHEMA_VERSION}; run the newer gateway, or restore a backup made by this version`,
        { details: { path, schemaVersion: current, supported: SCHEMA_VERSION } },
      );
    }
    const record = db.prepare('INSERT INTO schema_version (version, applied_at_ms) VALUES (?, ?)');
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      record.run(migration.version, Date.now());
    }
  }).immediate();
}
