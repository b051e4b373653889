import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import type { CliResult } from './run-cli.js';
import { startCommandHarness, type CommandHarness } from './helpers/command-harness.js';
import { createFakeCatalogService } from './helpers/fake-catalog-service.js';

vi.setConfig({ testTimeout: 120_000 });

const SECRET = 'ghp_S3cretValueThatMustNeverBePrinted';
const fake = createFakeCatalogService();
let h: CommandHarness;

beforeAll(async () => {
  h = await startCommandHarness(fake.handlers);
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  fake.reset();
  h.gateway.calls.length = 0;
  await h.reset();
});

const outputs: CliResult[] = [];
async function cli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  const r = await h.cli(args, { env });
  outputs.push(r);
  return r;
}
const methods = (): string[] => fake.calls.map((c) => c.method);

describe('provider', () => {
  test('create with KEY=VALUE and KEY from the environment; values reach the gateway, never the output', async () => {
    const created = await cli(
      [
        'provider',
        'create',
        '--name',
        'gh',
        '--type',
        'gh',
        '--credential',
        `GITHUB_TOKEN=${SECRET}`,
        '--credential',
        'GH_TOKEN',
      ],
      { GH_TOKEN: `${SECRET}-env` },
    );
    expect(created).toMatchObject({
      code: 0,
      stdout: '✓ Created provider gh (github) with GH_TOKEN, GITHUB_TOKEN\n',
    });
    expect(fake.secrets.get('gh')).toEqual({ GITHUB_TOKEN: SECRET, GH_TOKEN: `${SECRET}-env` });
    expect(fake.calls[0]?.request).toMatchObject({ name: 'gh', type: 'github', allowedHosts: [] });

    const list = await cli(['provider', 'list']);
    expect(list.stdout).toBe(
      'NAME  TYPE    CREDENTIAL_KEYS\ngh    github  GH_TOKEN,GITHUB_TOKEN\n',
    );
    const get = await cli(['provider', 'get', 'gh']);
    expect(get.stdout).toContain('Allowed hosts: api.github.com, github.com\n');
    const json = await cli(['provider', 'get', 'gh', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toEqual({
      name: 'gh',
      id: 'prov-1',
      type: 'github',
      credential_keys: ['GH_TOKEN', 'GITHUB_TOKEN'],
      allowed_hosts: ['api.github.com', 'github.com'],
      created_at: '2026-11-27T09:00:00.000Z',
    });
    await cli(['provider', 'list', '-o', 'yaml']);
    await cli([
      '-v',
      'provider',
      'create',
      '--name',
      'gh',
      '--type',
      'github',
      '--credential',
      `GITHUB_TOKEN=${SECRET}`,
    ]);
    for (const r of outputs) {
      expect(r.stdout).not.toContain(SECRET);
      expect(r.stderr).not.toContain(SECRET);
    }
  });

  test("--from-existing takes the type's variables from the environment", async () => {
    const r = await cli(
      ['provider', 'create', '--name', 'claude', '--type', 'claude', '--from-existing'],
      {
        ANTHROPIC_API_KEY: SECRET,
        CLAUDE_API_KEY: undefined,
      },
    );
    expect(r).toMatchObject({
      code: 0,
      stdout: '✓ Created provider claude (claude-code) with ANTHROPIC_API_KEY\n',
    });
    expect(fake.secrets.get('claude')).toEqual({ ANTHROPIC_API_KEY: SECRET });
    expect(r.stderr).not.toContain(SECRET);
  });

  test.for([
    [
      ['--type', 'github', '--credential', 'OPENSHELL_TEST_UNSET_VAR'],
      'the environment variable OPENSHELL_TEST_UNSET_VAR is not set',
    ],
    [
      ['--type', 'generic', '--credential', `TOKEN=${SECRET}`],
      '--type generic needs --allowed-host',
    ],
    [['--type', 'gitlab', '--from-existing'], 'none of GITLAB_TOKEN, GLAB_TOKEN is set'],
    [['--type', 'docker', '--credential', `T=${SECRET}`], '--type docker: unknown provider type'],
    [['--type', 'github', '--credential', `9BAD=${SECRET}`], '--credential 9BAD=…: KEY must be'],
  ] as const)('%j → exit 2 before any RPC, secret not echoed', async ([flags, message]) => {
    const r = await cli(['provider', 'create', '--name', 'p', ...flags], {
      OPENSHELL_TEST_UNSET_VAR: undefined,
      GITLAB_TOKEN: undefined,
      GLAB_TOKEN: undefined,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain(SECRET);
    expect(methods()).toEqual([]);
  });

  test('generic with --allowed-host is sent with its hosts', async () => {
    const r = await cli([
      'provider',
      'create',
      '--name',
      'internal',
      '--type',
      'generic',
      '--credential',
      `TOKEN=${SECRET}`,
      '--allowed-host',
      'api.internal.example.com',
    ]);
    expect(r.code).toBe(0);
    expect(fake.calls[0]?.request).toMatchObject({
      type: 'generic',
      allowedHosts: ['api.internal.example.com'],
    });
  });

  test('existing name → exit 1 with the gateway message; delete reports missing names and exits 0', async () => {
    await cli([
      'provider',
      'create',
      '--name',
      'gh',
      '--type',
      'github',
      '--credential',
      `GITHUB_TOKEN=${SECRET}`,
    ]);
    const dup = await cli([
      'provider',
      'create',
      '--name',
      'gh',
      '--type',
      'github',
      '--credential',
      `GITHUB_TOKEN=${SECRET}`,
    ]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('provider gh already exists');
    const del = await cli(['provider', 'delete', 'gh', 'ghost']);
    expect(del).toMatchObject({
      code: 0,
      stdout: '✓ Deleted provider gh\n! Provider ghost not found\n',
    });
    expect((await cli(['provider', 'list'])).stdout).toBe('No providers found.\n');
    const missing = await cli(['provider', 'get', 'gh']);
    expect(missing.code).toBe(1);
  });
});

describe('inference', () => {
  test('set with --api-key-env: key sent, never shown; has_api_key reported; get lists and shows', async () => {
    const set = await cli(
      [
        'inference',
        'set',
        '--name',
        'claude',
        '--kind',
        'frontier',
        '--base-url',
        'https://api.anthropic.com',
        '--api',
        'anthropic',
        '--model',
        'claude-sonnet-4',
        '--api-key-env',
        'MY_KEY',
      ],
      { MY_KEY: SECRET },
    );
    expect(set).toMatchObject({
      code: 0,
      stdout:
        '✓ Inference route claude set (frontier, anthropic, model claude-sonnet-4, API key: set)\n',
    });
    expect(fake.routeKeys.get('claude')).toBe(SECRET);
    await cli([
      'inference',
      'set',
      '--name',
      'local',
      '--kind',
      'local',
      '--base-url',
      'http://127.0.0.1:11434/v1',
      '--api',
      'openai',
      '--model',
      'llama3.1',
      '--no-api-key',
    ]);
    expect(fake.calls.at(-1)?.request).toMatchObject({
      name: 'local',
      kind: 1,
      api: 1,
      apiKey: '',
    });

    // Changing the model without a key flag keeps the stored key (apiKey absent on the wire).
    await cli([
      'inference',
      'set',
      '--name',
      'claude',
      '--kind',
      'frontier',
      '--base-url',
      'https://api.anthropic.com',
      '--api',
      'anthropic',
      '--model',
      'claude-opus-4',
    ]);
    expect((fake.calls.at(-1)?.request as { apiKey?: string }).apiKey).toBeUndefined();
    expect(fake.routeKeys.get('claude')).toBe(SECRET);

    const list = await cli(['inference', 'get']);
    expect(list.stdout).toMatch(/^NAME +KIND +API +MODEL +BASE_URL +API_KEY +UPDATED\n/);
    expect(list.stdout).toMatch(
      /^claude +frontier +anthropic +claude-opus-4 +https:\/\/api\.anthropic\.com +yes /m,
    );
    expect(list.stdout).toMatch(
      /^local +local +openai +llama3\.1 +http:\/\/127\.0\.0\.1:11434\/v1 +no /m,
    );
    const json = await cli(['inference', 'get', 'claude', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      name: 'claude',
      kind: 'frontier',
      api: 'anthropic',
      has_api_key: true,
    });
    expect(Object.keys(JSON.parse(json.stdout) as object).sort()).toEqual([
      'api',
      'base_url',
      'has_api_key',
      'kind',
      'model',
      'name',
      'updated_at',
    ]);
    for (const r of outputs) {
      expect(r.stdout).not.toContain(SECRET);
      expect(r.stderr).not.toContain(SECRET);
    }
  });

  test.for([
    [
      ['--api-key-env', 'OPENSHELL_TEST_UNSET_VAR'],
      'the environment variable OPENSHELL_TEST_UNSET_VAR is not set',
    ],
    [['--base-url', 'ftp://x.example.com'], 'must start with http:// or https://'],
    [['--kind', 'remote'], 'Expected --kind=remote to be one of: local, frontier'],
  ] as const)('%j → exit 2 before any RPC', async ([flags, message]) => {
    // The case's flag replaces the valid default of the same name (oclif refuses repeats).
    const values: Record<string, string> = {
      '--name': 'r',
      '--kind': 'local',
      '--base-url': 'http://127.0.0.1:8000/v1',
      '--api': 'openai',
      '--model': 'm',
      [flags[0]]: flags[1],
    };
    const base = Object.entries(values).flat();
    const r = await cli(['inference', 'set', ...base], {
      OPENSHELL_TEST_UNSET_VAR: undefined,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(methods()).toEqual([]);
  });

  test('delete: existing route removed, unknown one reported, both exit 0', async () => {
    await cli([
      'inference',
      'set',
      '--name',
      'local',
      '--kind',
      'local',
      '--base-url',
      'http://127.0.0.1:8000/v1',
      '--api',
      'openai',
      '--model',
      'm',
    ]);
    const del = await cli(['inference', 'delete', 'local']);
    expect(del).toMatchObject({ code: 0, stdout: '✓ Deleted inference route local\n' });
    const again = await cli(['inference', 'delete', 'local']);
    expect(again).toMatchObject({ code: 0, stdout: '! Inference route local not found\n' });
    const get = await cli(['inference', 'get', 'local']);
    expect(get.code).toBe(1);
    expect(get.stderr).toContain('inference route local not found');
  });
});
