import { constants as fsConstants } from 'node:fs';
import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { OpenShellError, isOpenShellError } from '@openshell/policy-schema';
import type {
  GatewayStore,
  NewSandbox,
  PolicyRevisionRecord,
  RevisionPatch,
  SandboxPatch,
  SandboxRecord,
} from './gateway-store.js';
import { openSecretBox } from './secret-box.js';
import { createSqliteEvents } from './sqlite-events.js';
import { migrateSqlite } from './sqlite-migrations.js';
import { createSqliteSecrets } from './sqlite-providers.js';
import {
  toRevisionRecord,
  toSandboxRecord,
  type RevisionRow,
  type SandboxRow,
} from './sqlite-rows.js';

export interface SqliteStoreOptions {
  /** The database file; created 0600 (parent 0700) when missing. */
  readonly path: string;
  /** The 32-byte key that encrypts secrets; created when missing, refused when readable by others. */
  readonly secretKeyPath: string;
}

/** How long a write waits for another connection's lock before failing (SQLITE_BUSY). */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens (creating and migrating as needed) the SQLite state store: one file in WAL mode,
 * 0600 with its -wal/-shm, foreign keys on, secrets encrypted with the key at secretKeyPath.
 *
 * @example
 * const store = await openSqliteStore({ path: paths.dbFile, secretKeyPath: paths.secretKeyFile });
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<GatewayStore> {
  const path = resolve(options.path);
  const box = await openSecretBox(options.secretKeyPath);
  await preparePrivateFile(path);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    // WAL: readers (status, logs) never block the writer and vice versa.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') {
      throw new OpenShellError(
        'ERR_INTERNAL',
        `could not switch ${path} to WAL (got ${String(mode)})`,
      );
    }
    // NORMAL in WAL mode: a commit survives a process crash (the restart case) and the file
    // is never corrupted; only an OS crash or power loss may roll back the last commits.
    // FULL fsyncs every commit, measured here at ~3.5 ms per write against ~0.1 ms, and
    // better-sqlite3 is synchronous, so that time would stall the gateway's event loop.
    db.pragma('synchronous = NORMAL');
    // better-sqlite3's bundled build defaults this on, but a build against another SQLite
    // may not: revisions rely on ON DELETE CASCADE.
    db.pragma('foreign_keys = ON');
    migrateSqlite(db, path);
    return createSqliteStore(db);
  } catch (error) {
    db?.close();
    throw storeError(`open ${path}`, error);
  }

  function createSqliteStore(handle: Database.Database): GatewayStore {
    const sandboxes = createSqliteSandboxes(handle);
    const secrets = createSqliteSecrets(handle, box);
    const events = createSqliteEvents(handle);
    // Every method runs synchronously on the connection; `settle` turns its result or
    // throw into a promise, with driver errors mapped to catalogued ones.
    return {
      kind: 'sqlite',
      createSandbox: (s) => settle('createSandbox', () => sandboxes.create(s)),
      getSandbox: (idOrName) => settle('getSandbox', () => sandboxes.get(idOrName)),
      listSandboxes: () => settle('listSandboxes', () => sandboxes.list()),
      updateSandbox: (id, expected, patch, nowMs) =>
        settle('updateSandbox', () => sandboxes.update(id, expected, patch, nowMs)),
      deleteSandbox: (id) => settle('deleteSandbox', () => sandboxes.remove(id)),
      addRevision: (id, revision) =>
        settle('addRevision', () => sandboxes.addRevision(id, revision)),
      getRevision: (id, version) => settle('getRevision', () => sandboxes.getRevision(id, version)),
      listRevisions: (id, limit) =>
        settle('listRevisions', () => sandboxes.listRevisions(id, limit)),
      updateRevision: (id, version, patch) =>
        settle('updateRevision', () => sandboxes.updateRevision(id, version, patch)),
      createProvider: (p, nowMs) =>
        settle('createProvider', () => secrets.createProvider(p, nowMs)),
      getProvider: (name) => settle('getProvider', () => secrets.getProvider(name)),
      listProviders: () => settle('listProviders', () => secrets.listProviders()),
      providerSecrets: (name) => settle('providerSecrets', () => secrets.providerSecrets(name)),
      deleteProvider: (name) => settle('deleteProvider', () => secrets.deleteProvider(name)),
      setInferenceRoute: (route, nowMs) =>
        settle('setInferenceRoute', () => secrets.setRoute(route, nowMs)),
      getInferenceRoute: (name) => settle('getInferenceRoute', () => secrets.getRoute(name)),
      listInferenceRoutes: () => settle('listInferenceRoutes', () => secrets.listRoutes()),
      inferenceRouteKeys: () => settle('inferenceRouteKeys', () => secrets.routeKeys()),
      deleteInferenceRoute: (name) =>
        settle('deleteInferenceRoute', () => secrets.deleteRoute(name)),
      appendEvents: (list) => settle('appendEvents', () => events.append(list)),
      queryEvents: (query) => settle('queryEvents', () => events.query(query)),
      pruneEvents: (retention, nowMs) =>
        settle('pruneEvents', () => events.prune(retention, nowMs)),
      ping: () =>
        settle('ping', () => {
          handle.prepare('SELECT 1').get();
        }),
      close: () =>
        settle('close', () => {
          handle.close();
        }),
    };
  }
}

interface SqliteSandboxes {
  create(sandbox: NewSandbox): SandboxRecord;
  get(idOrName: string): SandboxRecord | undefined;
  list(): SandboxRecord[];
  update(id: string, expected: number, patch: SandboxPatch, nowMs: number): SandboxRecord;
  remove(id: string): boolean;
  addRevision(
    sandboxId: string,
    revision: { readonly hash: string; readonly yaml: string; readonly createdAtMs: number },
  ): { revision: PolicyRevisionRecord; created: boolean };
  getRevision(sandboxId: string, version: number): PolicyRevisionRecord | undefined;
  listRevisions(sandboxId: string, limit?: number): PolicyRevisionRecord[];
  updateRevision(sandboxId: string, version: number, patch: RevisionPatch): PolicyRevisionRecord;
}

function createSqliteSandboxes(db: Database.Database): SqliteSandboxes {
  // A name may not equal another sandbox's id either: getSandbox tries ids first, so such a
  // name could never be looked up.
  const clash = db.prepare<[string, string, string, string], { id: string; name: string }>(
    'SELECT id, name FROM sandboxes WHERE id IN (?, ?) OR name IN (?, ?) LIMIT 1',
  );
  const insert = db.prepare<[Record<string, unknown>], SandboxRow>(
    `INSERT INTO sandboxes (id, name, labels, created_at_ms, updated_at_ms, resource_version,
       phase, phase_reason, main_exit, spec, current_policy_version, delete_requested, token_sha256)
     VALUES (@id, @name, @labels, @createdAtMs, @createdAtMs, 1, @phase, @phaseReason,
       @mainExit, @spec, @currentPolicyVersion, @deleteRequested, @tokenSha256)
     RETURNING *`,
  );
  const byIdOrName = db.prepare<[{ key: string }], SandboxRow>(
    'SELECT * FROM sandboxes WHERE id = @key OR name = @key ORDER BY id = @key DESC LIMIT 1',
  );
  const all = db.prepare<[], SandboxRow>('SELECT * FROM sandboxes ORDER BY created_at_ms, rowid');
  const versionOf = db.prepare<[string], { resource_version: number }>(
    'SELECT resource_version FROM sandboxes WHERE id = ?',
  );
  // The compare-and-swap is this one statement: SQLite runs it atomically, so of two
  // writers holding the same version exactly one matches the WHERE clause. "set" flags
  // distinguish "leave as stored" from "clear" for the nullable columns.
  const update = db.prepare<[Record<string, unknown>], SandboxRow>(
    `UPDATE sandboxes SET
       resource_version = resource_version + 1,
       updated_at_ms = @nowMs,
       phase = coalesce(@phase, phase),
       phase_reason = CASE WHEN @setPhaseReason THEN @phaseReason ELSE phase_reason END,
       main_exit = CASE WHEN @setMainExit THEN @mainExit ELSE main_exit END,
       current_policy_version = coalesce(@currentPolicyVersion, current_policy_version),
       delete_requested = coalesce(@deleteRequested, delete_requested),
       labels = coalesce(@labels, labels)
     WHERE id = @id AND resource_version = @expected
     RETURNING *`,
  );
  // Revisions go with the sandbox through ON DELETE CASCADE; events have no foreign key.
  const remove = db.prepare('DELETE FROM sandboxes WHERE id = ?');

  const newestRevision = db.prepare<[string], RevisionRow>(
    'SELECT * FROM policy_revisions WHERE sandbox_id = ? ORDER BY version DESC LIMIT 1',
  );
  const supersedePending = db.prepare(
    "UPDATE policy_revisions SET status = 'Superseded' WHERE sandbox_id = ? AND status = 'Pending'",
  );
  const insertRevision = db.prepare<[string, number, string, string, number], RevisionRow>(
    `INSERT INTO policy_revisions (sandbox_id, version, hash, yaml, status, created_at_ms)
     VALUES (?, ?, ?, ?, 'Pending', ?) RETURNING *`,
  );
  const revision = db.prepare<[string, number], RevisionRow>(
    'SELECT * FROM policy_revisions WHERE sandbox_id = ? AND version = ?',
  );
  // LIMIT -1 is SQLite's "no limit".
  const revisions = db.prepare<[string, number], RevisionRow>(
    'SELECT * FROM policy_revisions WHERE sandbox_id = ? ORDER BY version DESC LIMIT ?',
  );
  const updateRevision = db.prepare<[Record<string, unknown>], RevisionRow>(
    `UPDATE policy_revisions SET
       status = coalesce(@status, status),
       loaded_at_ms = CASE WHEN @setLoadedAtMs THEN @loadedAtMs ELSE loaded_at_ms END,
       error = CASE WHEN @setError THEN @error ELSE error END,
       proxy_acked_at_ms = CASE WHEN @setProxyAckedAtMs THEN @proxyAckedAtMs ELSE proxy_acked_at_ms END,
       agent_acked_at_ms = CASE WHEN @setAgentAckedAtMs THEN @agentAckedAtMs ELSE agent_acked_at_ms END
     WHERE sandbox_id = @sandboxId AND version = @version
     RETURNING *`,
  );

  const createTx = db.transaction(function createSandboxTx(s: NewSandbox): SandboxRecord {
    const taken = clash.get(s.id, s.name, s.id, s.name);
    if (taken !== undefined) throw sandboxExists(s, taken);
    const row = insert.get({
      id: s.id,
      name: s.name,
      labels: JSON.stringify(s.labels),
      createdAtMs: s.createdAtMs,
      phase: s.phase,
      phaseReason: s.phaseReason ?? null,
      mainExit: s.mainExit === undefined ? null : JSON.stringify(s.mainExit),
      spec: JSON.stringify(s.spec),
      currentPolicyVersion: s.currentPolicyVersion,
      deleteRequested: s.deleteRequested ? 1 : 0,
      tokenSha256: s.tokenSha256,
    });
    return toSandboxRecord(returned(row, 'insert sandbox'));
  });

  const addRevisionTx = db.transaction(function addRevisionTx(
    sandboxId: string,
    input: { readonly hash: string; readonly yaml: string; readonly createdAtMs: number },
  ) {
    if (versionOf.get(sandboxId) === undefined) throw sandboxNotFound(sandboxId);
    const newest = newestRevision.get(sandboxId);
    if (newest !== undefined && newest.hash === input.hash) {
      return { revision: toRevisionRecord(newest), created: false };
    }
    supersedePending.run(sandboxId);
    const row = insertRevision.get(
      sandboxId,
      (newest?.version ?? 0) + 1,
      input.hash,
      input.yaml,
      input.createdAtMs,
    );
    return { revision: toRevisionRecord(returned(row, 'insert revision')), created: true };
  });

  return {
    // IMMEDIATE: the read-then-write transactions take the write lock before reading, so a
    // second gateway connection waits (busy_timeout) instead of failing on a stale snapshot.
    create: (s) => createTx.immediate(s),
    get: function getSandbox(idOrName) {
      const row = byIdOrName.get({ key: idOrName });
      return row === undefined ? undefined : toSandboxRecord(row);
    },
    list: () => all.all().map(toSandboxRecord),
    update: function updateSandbox(id, expected, patch, nowMs) {
      const row = update.get({
        id,
        expected,
        nowMs,
        phase: patch.phase ?? null,
        ...clearable('phaseReason', patch, patch.phaseReason ?? null),
        ...clearable(
          'mainExit',
          patch,
          patch.mainExit === undefined ? null : JSON.stringify(patch.mainExit),
        ),
        currentPolicyVersion: patch.currentPolicyVersion ?? null,
        deleteRequested: patch.deleteRequested === undefined ? null : patch.deleteRequested ? 1 : 0,
        labels: patch.labels === undefined ? null : JSON.stringify(patch.labels),
      });
      if (row !== undefined) return toSandboxRecord(row);
      const current = versionOf.get(id);
      if (current === undefined) throw sandboxNotFound(id);
      throw new OpenShellError(
        'ERR_CONFLICT',
        `sandbox "${id}" changed concurrently (expected resource version ${expected}, ` +
          `stored ${current.resource_version}); read it again and retry`,
        { details: { id, expectedVersion: expected, storedVersion: current.resource_version } },
      );
    },
    remove: (id) => remove.run(id).changes > 0,
    addRevision: (sandboxId, input) => addRevisionTx.immediate(sandboxId, input),
    getRevision: function getRevision(sandboxId, version) {
      const row = revision.get(sandboxId, version);
      return row === undefined ? undefined : toRevisionRecord(row);
    },
    listRevisions: (sandboxId, limit) =>
      revisions.all(sandboxId, limit ?? -1).map(toRevisionRecord),
    updateRevision: function updateRevisionRow(sandboxId, version, patch) {
      const row = updateRevision.get({
        sandboxId,
        version,
        status: patch.status ?? null,
        ...clearable('loadedAtMs', patch, patch.loadedAtMs ?? null),
        ...clearable('error', patch, patch.error ?? null),
        ...clearable('proxyAckedAtMs', patch, patch.proxyAckedAtMs ?? null),
        ...clearable('agentAckedAtMs', patch, patch.agentAckedAtMs ?? null),
      });
      if (row === undefined) {
        throw new OpenShellError(
          'ERR_CONFLICT',
          `policy revision ${version} of sandbox "${sandboxId}" does not exist (the sandbox was ` +
            'deleted, or the version was never stored); list revisions and retry',
          { details: { sandboxId, version } },
        );
      }
      return toRevisionRecord(row);
    },
  };
}

/** Parameters for one nullable column: `set<Key>` is 1 when the patch names the key at all. */
function clearable(key: string, patch: object, value: unknown): Record<string, unknown> {
  const setFlag = `set${key[0]?.toUpperCase() ?? ''}${key.slice(1)}`;
  return { [setFlag]: Object.hasOwn(patch, key) ? 1 : 0, [key]: value };
}

function returned<T>(row: T | undefined, what: string): T {
  if (row === undefined) throw new OpenShellError('ERR_INTERNAL', `${what} returned no row`);
  return row;
}

function sandboxExists(s: NewSandbox, taken: { id: string; name: string }): OpenShellError {
  const what =
    taken.name === s.name
      ? `sandbox name "${s.name}" is already taken (by sandbox ${taken.id})`
      : taken.id === s.id
        ? `sandbox id "${s.id}" is already taken (by sandbox "${taken.name}")`
        : `"${s.name === taken.id ? s.name : s.id}" is already used by sandbox ` +
          `"${taken.name}" (${taken.id})`;
  return new OpenShellError(
    'ERR_SANDBOX_EXISTS',
    `${what}; choose another name, or delete the existing sandbox first`,
    { details: { id: s.id, name: s.name, existingId: taken.id, existingName: taken.name } },
  );
}

function sandboxNotFound(id: string): OpenShellError {
  return new OpenShellError(
    'ERR_SANDBOX_NOT_FOUND',
    `sandbox "${id}" not found; list sandboxes with \`openshell sandbox list\``,
    { details: { id } },
  );
}

/**
 * Creates the database file 0600 before SQLite does (SQLite's default is 0644 less the
 * umask) and tightens an existing one; SQLite gives -wal and -shm the mode of the main file.
 */
async function preparePrivateFile(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    // O_NOFOLLOW: a symlink planted at the path must not make us chmod another file.
    const handle = await open(
      path,
      fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW,
      0o600,
    );
    try {
      await handle.chmod(0o600);
    } finally {
      await handle.close();
    }
    for (const sidecar of [`${path}-wal`, `${path}-shm`]) {
      await chmod(sidecar, 0o600).catch(function ignoreMissing(error: unknown) {
        // Absent after a clean close: SQLite creates them from the main file's mode.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
    }
  } catch (error) {
    throw storeError(`prepare ${path}`, error);
  }
}

function settle<T>(operation: string, run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(storeError(operation, error));
  }
}

// Driver messages ("UNIQUE constraint failed: sandboxes.name", "database is locked") name
// tables and columns, never bound values, so they are safe to surface: no secret leaks.
function storeError(operation: string, error: unknown): OpenShellError {
  if (isOpenShellError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OpenShellError('ERR_INTERNAL', `state store: ${operation} failed: ${message}`, {
    cause: error,
    details: { operation },
  });
}
