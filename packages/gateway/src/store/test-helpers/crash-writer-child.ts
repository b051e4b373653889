import { openSqliteStore } from '../open-sqlite-store.js';
import { sampleEvent, sampleSandbox } from './store-fixtures.js';

/**
 * Writes one of each record, prints "written" and then stays alive until the test kills it
 * with SIGKILL: no close(), no checkpoint, exactly what a gateway crash leaves behind.
 * argv: <db path> <key path>.
 */
const [dbPath, keyPath] = process.argv.slice(2);
if (dbPath === undefined || keyPath === undefined) {
  throw new Error('usage: crash-writer-child <db> <key>');
}
const store = await openSqliteStore({ path: dbPath, secretKeyPath: keyPath });
await store.createSandbox(sampleSandbox());
await store.addRevision('sb-1', { hash: 'h', yaml: 'y\n', createdAtMs: 2 });
await store.createProvider(
  { name: 'gh', type: 'github', credentials: { GITHUB_TOKEN: 'tok' }, allowedHosts: [] },
  3,
);
await store.setInferenceRoute(
  {
    name: 'r',
    kind: 'local',
    baseUrl: 'http://127.0.0.1:1',
    api: 'openai',
    model: 'm',
    apiKey: 'k',
  },
  4,
);
await store.appendEvents([sampleEvent('before-crash')]);
process.stdout.write('written\n');
setInterval(() => undefined, 60_000);
