import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { makeCliEnv } from './helpers/cli-env.js';
import { startFakeGateway } from './helpers/fake-gateway.js';
import { makeTestCerts } from './helpers/test-certs.js';
import { runCli } from './run-cli.js';

/** Keys (recursively, arrays by their first item) with value types, so the snapshot pins the shape. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  }
  return value === null ? 'null' : typeof value;
}

/**
 * Pins the `-o json` shape of status, gateway status and the sandbox commands: scripts read
 * these, so a changed key must fail here unless the snapshot is updated on purpose.
 */
test(
  'JSON shapes of status, gateway status and sandbox commands',
  { timeout: 180_000 },
  async () => {
    const certs = await makeTestCerts(await mkdtemp(join(tmpdir(), 'openshell-certs-')));
    const gateway = await startFakeGateway({
      certs,
      handlers: {
        getPolicy(_call, callback) {
          callback(null, {
            activeVersion: 1,
            yaml: 'version: 1\n',
            revision: { version: 1, hash: 'ab', status: 2, createdAtMs: 1 },
          });
        },
      },
    });
    try {
      const { env, configDir } = await makeCliEnv();
      await gateway.writeConfig(configDir);
      gateway.seed('demo', { team: 'infra' });
      const runs: [string, string[]][] = [
        ['status', ['status', '-o', 'json']],
        ['gateway status', ['gateway', 'status', '-o', 'json']],
        ['sandbox list', ['sandbox', 'list', '-o', 'json']],
        ['sandbox get', ['sandbox', 'get', 'demo', '-o', 'json']],
        ['sandbox create', ['sandbox', 'create', '--name', 'new', '--detach', '-o', 'json']],
      ];
      const results = await Promise.all(
        runs.map(async ([id, args]) => ({ id, r: await runCli(args, { env }) })),
      );
      const shapes: Record<string, unknown> = {};
      for (const { id, r } of results) {
        expect(r.code, `${id}: ${r.stderr}`).toBe(0);
        shapes[id] = shapeOf(JSON.parse(r.stdout));
      }
      expect(shapes).toMatchSnapshot();
    } finally {
      await gateway.close();
    }
  },
);
