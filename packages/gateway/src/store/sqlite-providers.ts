import { randomUUID } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { OpenShellError } from '@openshell/policy-schema';
import type {
  InferenceRouteInput,
  InferenceRouteRecord,
  NewProvider,
  ProviderRecord,
} from './gateway-store.js';
import type { SecretBox } from './secret-box.js';
import { parseJson, toRouteRecord, type ProviderRow, type RouteRow } from './sqlite-rows.js';

/**
 * Providers and inference routes: the two places secrets live. Values go in and come out
 * only through the SecretBox, and every read other than providerSecrets/routeKeys returns
 * names and flags, never values.
 */
export interface SqliteSecrets {
  createProvider(provider: NewProvider, nowMs: number): ProviderRecord;
  getProvider(name: string): ProviderRecord | undefined;
  listProviders(): ProviderRecord[];
  providerSecrets(name: string): Record<string, string>;
  deleteProvider(name: string): boolean;
  setRoute(route: InferenceRouteInput, nowMs: number): InferenceRouteRecord;
  getRoute(name: string): InferenceRouteRecord | undefined;
  listRoutes(): InferenceRouteRecord[];
  routeKeys(): Record<string, string>;
  deleteRoute(name: string): boolean;
}

interface CredentialRow {
  readonly provider_id: string;
  readonly key: string;
  readonly value: Buffer;
}

const ROUTE_COLUMNS =
  'name, kind, base_url, api, model, api_key IS NOT NULL AS has_api_key, updated_at_ms';

/** The provider and inference-route half of the SQLite store. */
export function createSqliteSecrets(db: BetterSqlite3.Database, box: SecretBox): SqliteSecrets {
  const providerByName = db.prepare<[string], ProviderRow>(
    'SELECT * FROM providers WHERE name = ?',
  );
  const allProviders = db.prepare<[], ProviderRow>('SELECT * FROM providers ORDER BY name');
  const insertProvider = db.prepare(
    `INSERT INTO providers (id, name, type, allowed_hosts, created_at_ms)
     VALUES (@id, @name, @type, @allowedHosts, @createdAtMs)`,
  );
  const insertCredential = db.prepare(
    'INSERT INTO provider_credentials (provider_id, key, value) VALUES (?, ?, ?)',
  );
  const credentialsOf = db.prepare<[string], CredentialRow>(
    'SELECT * FROM provider_credentials WHERE provider_id = ?',
  );
  const allCredentialKeys = db.prepare<[], Omit<CredentialRow, 'value'>>(
    'SELECT provider_id, key FROM provider_credentials',
  );
  const deleteProviderByName = db.prepare('DELETE FROM providers WHERE name = ?');

  // apiKey absent keeps the stored blob; present ('' → NULL, else a new blob) replaces it.
  const upsertRoute = db.prepare<[Record<string, unknown>], RouteRow>(
    `INSERT INTO inference_routes (name, kind, base_url, api, model, api_key, updated_at_ms)
     VALUES (@name, @kind, @baseUrl, @api, @model, @apiKey, @nowMs)
     ON CONFLICT (name) DO UPDATE SET
       kind = excluded.kind, base_url = excluded.base_url, api = excluded.api,
       model = excluded.model, updated_at_ms = excluded.updated_at_ms,
       api_key = CASE WHEN @keepKey THEN inference_routes.api_key ELSE excluded.api_key END
     RETURNING ${ROUTE_COLUMNS}`,
  );
  const routeByName = db.prepare<[string], RouteRow>(
    `SELECT ${ROUTE_COLUMNS} FROM inference_routes WHERE name = ?`,
  );
  const allRoutes = db.prepare<[], RouteRow>(
    `SELECT ${ROUTE_COLUMNS} FROM inference_routes ORDER BY name`,
  );
  const allRouteKeys = db.prepare<[], { name: string; api_key: Buffer | null }>(
    'SELECT name, api_key FROM inference_routes ORDER BY name',
  );
  const deleteRouteByName = db.prepare('DELETE FROM inference_routes WHERE name = ?');

  const insertProviderTx = db.transaction(function insertProviderTx(
    provider: NewProvider,
    nowMs: number,
  ): ProviderRecord {
    if (providerByName.get(provider.name) !== undefined) {
      throw new OpenShellError(
        'ERR_PROVIDER_EXISTS',
        `provider "${provider.name}" already exists; choose another name, or delete it first ` +
          `with \`openshell provider delete ${provider.name}\``,
        { details: { name: provider.name } },
      );
    }
    const id = randomUUID();
    insertProvider.run({
      id,
      name: provider.name,
      type: provider.type,
      allowedHosts: JSON.stringify(provider.allowedHosts),
      createdAtMs: nowMs,
    });
    for (const [key, value] of Object.entries(provider.credentials)) {
      insertCredential.run(id, key, box.seal(value, credentialContext(id, provider.name, key)));
    }
    // Read back what was stored, so the result is exactly what later reads return.
    return toProviderRecord(requireProvider(provider.name), Object.keys(provider.credentials));
  });

  function requireProvider(name: string): ProviderRow {
    const row = providerByName.get(name);
    if (row === undefined) {
      throw new OpenShellError(
        'ERR_PROVIDER_NOT_FOUND',
        `provider "${name}" not found; list providers with \`openshell provider list\``,
        { details: { name } },
      );
    }
    return row;
  }

  return {
    createProvider: (provider, nowMs) => insertProviderTx.immediate(provider, nowMs),
    getProvider: function getProvider(name) {
      const row = providerByName.get(name);
      if (row === undefined) return undefined;
      return toProviderRecord(
        row,
        credentialsOf.all(row.id).map((c) => c.key),
      );
    },
    listProviders: function listProviders() {
      const keysById = new Map<string, string[]>();
      for (const { provider_id: id, key } of allCredentialKeys.all()) {
        const keys = keysById.get(id) ?? [];
        keys.push(key);
        keysById.set(id, keys);
      }
      return allProviders.all().map((row) => toProviderRecord(row, keysById.get(row.id) ?? []));
    },
    providerSecrets: function providerSecrets(name) {
      const row = requireProvider(name);
      return Object.fromEntries(
        credentialsOf
          .all(row.id)
          .map((c) => [c.key, box.open(c.value, credentialContext(row.id, row.name, c.key))]),
      );
    },
    deleteProvider: (name) => deleteProviderByName.run(name).changes > 0,

    setRoute: function setRoute(route, nowMs) {
      const row = upsertRoute.get({
        name: route.name,
        kind: route.kind,
        baseUrl: route.baseUrl,
        api: route.api,
        model: route.model,
        apiKey:
          route.apiKey === undefined || route.apiKey === ''
            ? null
            : box.seal(route.apiKey, routeContext(route.name)),
        keepKey: route.apiKey === undefined ? 1 : 0,
        nowMs,
      });
      if (row === undefined) {
        throw new OpenShellError('ERR_INTERNAL', `upsert of route "${route.name}" returned no row`);
      }
      return toRouteRecord(row);
    },
    getRoute: function getRoute(name) {
      const row = routeByName.get(name);
      return row === undefined ? undefined : toRouteRecord(row);
    },
    listRoutes: () => allRoutes.all().map(toRouteRecord),
    routeKeys: function routeKeys() {
      // Object.fromEntries defines own properties, so a route named "__proto__" is a key,
      // not a prototype change.
      return Object.fromEntries(
        allRouteKeys
          .all()
          .map((r) => [
            r.name,
            r.api_key === null ? '' : box.open(r.api_key, routeContext(r.name)),
          ]),
      );
    },
    deleteRoute: (name) => deleteRouteByName.run(name).changes > 0,
  };
}

// The associated data of each blob: the provider id is fixed for the row's life (a deleted
// and re-created provider gets a new one), JSON quoting keeps distinct names distinct.
function credentialContext(providerId: string, name: string, key: string): string {
  return `provider ${JSON.stringify(name)} (${providerId}) credential ${JSON.stringify(key)}`;
}

function routeContext(name: string): string {
  return `inference route ${JSON.stringify(name)} api key`;
}

function toProviderRecord(row: ProviderRow, keys: readonly string[]): ProviderRecord {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    credentialKeys: [...keys].sort(),
    allowedHosts: parseJson<string[]>(row.allowed_hosts),
    createdAtMs: row.created_at_ms,
  };
}
