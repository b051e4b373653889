import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';
import { expect, test } from 'vitest';
import {
  Action,
  DecisionLayer,
  Enforcement,
  LogLevel,
  LogSource,
  type LogEntry,
} from '@openshell/proto';
import { startCommandHarness } from './helpers/command-harness.js';
import { createFakeCatalogService } from './helpers/fake-catalog-service.js';
import { createFakeLogsService } from './helpers/fake-logs-service.js';
import { createFakePolicyService } from './helpers/fake-policy-service.js';
import { runCli } from './run-cli.js';

const LOG_SAMPLE: LogEntry = {
  source: LogSource.LOG_SOURCE_PROXY,
  level: LogLevel.LOG_LEVEL_WARN,
  event: {
    $case: 'decision',
    value: {
      timeMs: Date.UTC(2026, 10, 27),
      sandboxId: 'sb-1',
      sandboxName: 'demo',
      policyVersion: 1,
      binary: '/usr/bin/curl',
      ancestors: [],
      host: 'example.com',
      port: 443,
      action: Action.ACTION_DENY,
      layer: DecisionLayer.DECISION_LAYER_L4,
      enforcement: Enforcement.ENFORCEMENT_UNSPECIFIED,
      reason: 'no matching policy',
    },
  },
};

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * Pins every command and its flags (name, short char, required, options, multiple) so a
 * breaking change to the CLI surface fails here unless the snapshot is updated on purpose.
 */
test('command surface', async () => {
  const config = await Config.load(PACKAGE_DIR);
  const surface = config.commands
    .map((cmd) => ({
      id: cmd.id.replaceAll(':', ' '),
      args: Object.keys(cmd.args),
      flags: Object.entries(cmd.flags)
        .map(([name, flag]) => {
          const f = flag as {
            char?: string;
            required?: boolean;
            options?: readonly string[];
            multiple?: boolean;
            type: string;
          };
          return [
            `--${name}`,
            f.char === undefined ? '' : `-${f.char}`,
            f.type,
            f.required === true ? 'required' : '',
            f.multiple === true ? 'multiple' : '',
            f.options === undefined ? '' : f.options.join('|'),
          ]
            .filter((s) => s !== '')
            .join(' ');
        })
        .sort(),
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
  expect(surface.map((c) => c.id)).toContain('policy validate');
  expect(surface).toMatchSnapshot();
});

test('--help and -V work at the root', async () => {
  const help = await runCli(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('policy');
  const version = await runCli(['-V']);
  expect(version.code).toBe(0);
  expect(version.stdout).toMatch(/^@openshell\/cli\/0\.1\.0 /);
});

test('an unknown command exits 2 and says so', async () => {
  const r = await runCli(['polcy', 'validate']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/polcy/);
});

// --- policy / provider / inference / logs (CLI-2) ---------------------------------------

const GATEWAY_COMMANDS = [
  'policy get',
  'policy set',
  'policy update',
  'policy list',
  'provider create',
  'provider list',
  'provider get',
  'provider delete',
  'inference set',
  'inference get',
  'inference delete',
  'logs',
];

test('--help of every policy/provider/inference/logs command', { timeout: 180_000 }, async () => {
  const results = await Promise.all(
    GATEWAY_COMMANDS.map(async (id) => ({ id, r: await runCli([...id.split(' '), '--help']) })),
  );
  for (const { id, r } of results) {
    expect(r.code, id).toBe(0);
    expect(r.stdout, id).toContain(`USAGE\n  $ openshell ${id}`);
    expect(r.stdout, id).toContain('GLOBAL FLAGS');
  }
});

/** Sorted keys of a JSON value, one level into arrays, so the snapshot pins each shape. */
function shapeOf(json: string): unknown {
  const value: unknown = JSON.parse(json);
  const keys = (v: unknown): string[] =>
    typeof v === 'object' && v !== null ? Object.keys(v).sort() : [typeof v];
  return Array.isArray(value) ? [keys(value[0])] : keys(value);
}

test('JSON shapes of policy/provider/inference/logs', { timeout: 300_000 }, async () => {
  const policy = createFakePolicyService(['demo']);
  const catalog = createFakeCatalogService();
  const logs = createFakeLogsService([LOG_SAMPLE], []);
  const h = await startCommandHarness({
    ...policy.handlers,
    ...catalog.handlers,
    ...logs.handlers,
  });
  try {
    const policyYaml =
      'version: 1\nnetwork_policies:\n  pypi:\n    endpoints: [{ host: pypi.org, port: 443 }]\n    binaries: [{ path: /usr/bin/pip }]\n';
    const runs: [string, string[], string?][] = [
      ['policy get', ['policy', 'get', 'demo', '--full', '-o', 'json']],
      ['policy list', ['policy', 'list', 'demo', '-o', 'json']],
      ['policy set', ['policy', 'set', 'demo', '--policy', '-', '-o', 'json'], policyYaml],
      [
        'policy update',
        ['policy', 'update', 'demo', '--add-endpoint', 'a.example.com:443', '-o', 'json'],
      ],
      [
        'policy update --dry-run',
        [
          'policy',
          'update',
          'demo',
          '--add-endpoint',
          'b.example.com:443',
          '--dry-run',
          '-o',
          'json',
        ],
      ],
      [
        'provider create',
        [
          'provider',
          'create',
          '--name',
          'gh',
          '--type',
          'github',
          '--credential',
          'GITHUB_TOKEN=x',
          '-o',
          'json',
        ],
      ],
      ['provider list', ['provider', 'list', '-o', 'json']],
      [
        'inference set',
        [
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
          '-o',
          'json',
        ],
      ],
      ['inference get', ['inference', 'get', '-o', 'json']],
      ['logs', ['logs', '--all', '-o', 'json']],
    ];
    const shapes: Record<string, unknown> = {};
    // Sequential: the set/update results depend on the order they are stored in.
    for (const [name, args, stdin] of runs) {
      const r = await h.cli(args, stdin === undefined ? {} : { stdin });
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      shapes[name] = shapeOf(r.stdout);
    }
    expect(shapes).toMatchSnapshot();
  } finally {
    await h.close();
  }
});
