import { createInterface } from 'node:readline';
import { openSqliteStore } from '../open-sqlite-store.js';

/**
 * One contender in the cross-process compare-and-swap race (sqlite-store.test.ts): opens
 * its own connection, says "ready", waits for "go" on stdin so every contender writes at
 * once, then tries to move sandbox sb-1 from resource version 1 and prints the outcome.
 * argv: <db path> <key path> <phase>.
 */
const [dbPath, keyPath, phase] = process.argv.slice(2);
if (dbPath === undefined || keyPath === undefined || (phase !== 'Ready' && phase !== 'Error')) {
  throw new Error('usage: cas-race-child <db> <key> <Ready|Error>');
}
const store = await openSqliteStore({ path: dbPath, secretKeyPath: keyPath });
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'go') break;
}
const outcome = await store.updateSandbox('sb-1', 1, { phase }, Date.now()).then(
  (record) => ({ won: true, version: record.resourceVersion }),
  (error: unknown) => ({ won: false, code: (error as { code?: unknown }).code }),
);
await store.close();
process.stdout.write(`${JSON.stringify(outcome)}\n`);
