import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { makeCliEnv } from './helpers/cli-env.js';
import { startFakeGateway, type FakeGateway } from './helpers/fake-gateway.js';
import { makeTestCerts, type TestCerts } from './helpers/test-certs.js';
import { runCli } from './run-cli.js';

let certs: TestCerts;
let gateway: FakeGateway;
let env: Record<string, string | undefined>;
let configDir: string;

beforeAll(async () => {
  certs = await makeTestCerts(await mkdtemp(join(tmpdir(), 'openshell-certs-')));
  gateway = await startFakeGateway({ certs });
});
afterAll(async () => {
  await gateway.close();
});
beforeEach(async () => {
  for (const name of [...gateway.sandboxes.keys()]) gateway.sandboxes.delete(name);
  gateway.calls.length = 0;
  ({ env, configDir } = await makeCliEnv());
  await gateway.writeConfig(configDir);
});

const cli = (args: string[], stdin?: string) =>
  runCli(args, { env, ...(stdin !== undefined ? { stdin } : {}) });

describe('status', () => {
  test('connected: name, server, status, auth, version, driver, proxy, count', async () => {
    gateway.seed('demo');
    const r = await cli(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Gateway:         local');
    expect(r.stdout).toContain(`Server:          ${gateway.endpoint}`);
    expect(r.stdout).toMatch(/^Status: +Connected$/m);
    expect(r.stdout).toMatch(/^Authentication: +mtls$/m);
    expect(r.stdout).toMatch(/^Sandboxes: +1$/m);
    const json = JSON.parse((await cli(['status', '-o', 'json'])).stdout);
    expect(json).toEqual({
      gateway: 'local',
      server: gateway.endpoint,
      status: 'Connected',
      reason: null,
      authentication: 'mtls',
      version: '0.1.0-fake',
      driver: 'local',
      proxy_connected: true,
      sandbox_count: 1,
    });
  });

  test('disconnected (auto-start impossible): exit 0 with the reason', async () => {
    const r = await cli(['status', '--gateway-endpoint', 'https://127.0.0.1:1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Status: +Disconnected \(cannot reach/m);
    const json = JSON.parse(
      (await cli(['status', '-o', 'json', '--gateway-endpoint', 'https://127.0.0.1:1'])).stdout,
    );
    expect(json).toMatchObject({ status: 'Disconnected', server: 'https://127.0.0.1:1' });
    expect(json.reason).toMatch(/openshell gateway start/);
  });

  test('wrong client certificate: Error, not Disconnected', async () => {
    const other = await makeTestCerts(await mkdtemp(join(tmpdir(), 'openshell-certs-')));
    const stranger = await startFakeGateway({ certs: other });
    try {
      const r = await cli(['status', '-o', 'json', '--gateway-endpoint', stranger.endpoint]);
      expect(r.code).toBe(0);
      // Our CA does not sign the stranger's server cert: TLS fails before any RPC.
      expect(JSON.parse(r.stdout).status).toMatch(/^(Disconnected|Error)$/);
      expect(stranger.calls).toEqual([]);
    } finally {
      await stranger.close();
    }
  });
});

describe('sandbox list', () => {
  test('empty → "No sandboxes found."; JSON → []', async () => {
    expect((await cli(['sandbox', 'list'])).stdout).toBe('No sandboxes found.\n');
    expect(JSON.parse((await cli(['sandbox', 'list', '-o', 'json'])).stdout)).toEqual([]);
  });

  test('table NAME  CREATED  PHASE, aligned, oldest first', async () => {
    gateway.seed('demo');
    gateway.seed('a-much-longer-name', { team: 'infra' });
    const r = await cli(['sandbox', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^NAME {16}CREATED {18}PHASE\ndemo {16}2026-11-27 \d\d:\d\d:00 UTC {2}Ready\na-much-longer-name {2}2026-11-27 \d\d:\d\d:00 UTC {2}Ready\n$/,
    );
  });

  test('JSON shape and --selector, --names', async () => {
    gateway.seed('demo');
    gateway.seed('infra-box', { team: 'infra' });
    const all = JSON.parse((await cli(['sandbox', 'list', '-o', 'json'])).stdout);
    expect(all).toHaveLength(2);
    expect(Object.keys(all[0])).toEqual([
      'id',
      'name',
      'labels',
      'created_at',
      'phase',
      'current_policy_version',
    ]);
    expect(all[1]).toMatchObject({ name: 'infra-box', labels: { team: 'infra' }, phase: 'Ready' });
    expect(all[1].created_at).toMatch(/^2026-11-27T\d\d:\d\d:00\.000Z$/);
    const sel = await cli(['sandbox', 'list', '--selector', 'team=infra', '--names']);
    expect(sel.stdout).toBe('infra-box\n');
    const bad = await cli(['sandbox', 'list', '--selector', 'team']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--selector team: expected KEY=VALUE');
  });
});

describe('sandbox delete', () => {
  test('found → ✓ Deleted; unknown → ! not found, still exit 0', async () => {
    gateway.seed('demo');
    const r = await cli(['sandbox', 'delete', 'demo', 'ghost']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('✓ Deleted sandbox demo\n');
    expect(r.stderr).toBe('! Sandbox ghost not found\n');
    expect(gateway.sandboxes.has('demo')).toBe(false);
  });

  test('--all deletes every sandbox; names and --all together are refused', async () => {
    gateway.seed('a');
    gateway.seed('b');
    expect((await cli(['sandbox', 'delete', 'a', '--all'])).code).toBe(2);
    expect(gateway.sandboxes.size).toBe(2);
    const r = await cli(['sandbox', 'delete', '--all']);
    expect(r.stdout).toBe('✓ Deleted sandbox a\n✓ Deleted sandbox b\n');
    expect(gateway.sandboxes.size).toBe(0);
  });
});

describe('unknown names and the last-used sandbox', () => {
  test.for([
    ['dmeo', 'Sandbox "dmeo" not found. Did you mean "demo"?'],
    ['zzzzzz', `Sandbox "zzzzzz" not found. Run 'openshell sandbox list' to see them.`],
  ])('sandbox get %s → %s', async ([name, message]) => {
    gateway.seed('demo');
    const r = await cli(['sandbox', 'get', name ?? '']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error: ${message}\n`);
  });

  test('exec -n with a typo suggests the name too', async () => {
    gateway.seed('demo');
    const r = await cli(['sandbox', 'exec', '-n', 'deom', '--', 'echo', 'hi']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Did you mean "demo"?');
  });

  test('no name and nothing used before → says to pass a name or create one (exit 2)', async () => {
    const r = await cli(['sandbox', 'get']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pass a name.*openshell sandbox create/);
  });

  test('a successful exec is remembered and used when the name is omitted', async () => {
    gateway.seed('demo');
    gateway.seed('other');
    expect((await cli(['sandbox', 'exec', '-n', 'other', '--', 'echo', 'x'])).code).toBe(0);
    expect(await readFile(join(configDir, 'gateways/local/last_sandbox'), 'utf8')).toBe('other\n');
    const r = await cli(['sandbox', 'exec', '--', 'echo', 'again']);
    expect(r.stdout).toBe('again\n');
    expect(gateway.execStarts.at(-1)?.sandbox).toBe('other');
  });
});

describe('sandbox get', () => {
  test('metadata block, ---, then the effective policy; --policy-only', async () => {
    gateway.seed('demo', { team: 'infra' });
    const withPolicy = await startFakeGateway({
      certs,
      handlers: {
        getPolicy(_call, callback) {
          callback(null, { activeVersion: 1, yaml: 'version: 1\nnetwork_policies: {}\n' });
        },
      },
    });
    try {
      withPolicy.seed('demo', { team: 'infra' });
      const r = await cli(['sandbox', 'get', 'demo', '--gateway-endpoint', withPolicy.endpoint]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Name: {7}demo\nId: {9}sb-\d+\nPhase: {6}Ready\n/);
      expect(r.stdout).toContain('Labels:     team=infra\n');
      expect(r.stdout).toMatch(/\n---\nversion: 1\nnetwork_policies: \{\}\n$/);
      const only = await cli([
        'sandbox',
        'get',
        'demo',
        '--policy-only',
        '--gateway-endpoint',
        withPolicy.endpoint,
      ]);
      expect(only.stdout).toBe('version: 1\nnetwork_policies: {}\n');
    } finally {
      await withPolicy.close();
    }
  });
});
