import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Action,
  DecisionLayer,
  Enforcement,
  LifecycleEventKind,
  LogLevel,
  LogSource,
  SandboxPhase,
  type LogEntry,
} from '@openshell/proto';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { startCommandHarness, type CommandHarness } from './helpers/command-harness.js';
import { createFakeLogsService } from './helpers/fake-logs-service.js';
import { CLI_BIN } from './run-cli.js';

vi.setConfig({ testTimeout: 120_000 });

const T = Date.UTC(2026, 10, 27, 10, 15, 2);

const deny: LogEntry = {
  source: LogSource.LOG_SOURCE_PROXY,
  level: LogLevel.LOG_LEVEL_WARN,
  event: {
    $case: 'decision',
    value: {
      timeMs: T,
      sandboxId: 'sb-1',
      sandboxName: 'demo',
      policyVersion: 1,
      binary: '/usr/bin/curl',
      ancestors: ['/bin/bash'],
      host: 'example.com',
      port: 443,
      action: Action.ACTION_DENY,
      layer: DecisionLayer.DECISION_LAYER_L4,
      enforcement: Enforcement.ENFORCEMENT_UNSPECIFIED,
      reason: 'no matching policy',
      denialCode: 'policy_denied',
    },
  },
};
const allow: LogEntry = {
  source: LogSource.LOG_SOURCE_PROXY,
  level: LogLevel.LOG_LEVEL_INFO,
  event: {
    $case: 'decision',
    value: {
      timeMs: T + 1000,
      sandboxId: 'sb-1',
      sandboxName: 'demo',
      policyVersion: 1,
      binary: '/usr/bin/curl',
      pid: 42,
      ancestors: [],
      host: 'api.github.com',
      port: 443,
      method: 'GET',
      path: '/repos/o/r',
      action: Action.ACTION_ALLOW,
      layer: DecisionLayer.DECISION_LAYER_L7,
      enforcement: Enforcement.ENFORCEMENT_ENFORCE,
      policy: 'github_api',
      rule: 'GET /repos/**',
      reason: 'allowed by rule',
    },
  },
};
const ready: LogEntry = {
  source: LogSource.LOG_SOURCE_GATEWAY,
  level: LogLevel.LOG_LEVEL_INFO,
  event: {
    $case: 'lifecycle',
    value: {
      timeMs: T - 5000,
      sandboxId: 'sb-1',
      sandboxName: 'demo',
      kind: LifecycleEventKind.LIFECYCLE_EVENT_KIND_READY,
      phase: SandboxPhase.SANDBOX_PHASE_READY,
      message: '',
    },
  },
};
const live: LogEntry = {
  ...allow,
  event:
    allow.event?.$case === 'decision'
      ? { $case: 'decision', value: { ...allow.event.value, timeMs: T + 60_000, path: '/live' } }
      : undefined,
};

const fake = createFakeLogsService([ready, deny, allow], [live]);
let h: CommandHarness;

beforeAll(async () => {
  h = await startCommandHarness(fake.handlers);
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  fake.filters.length = 0;
  fake.followCancelled.length = 0;
  await h.reset();
});

describe('logs', () => {
  test('one grep-friendly line per entry, oldest first', async () => {
    const r = await h.cli(['logs', 'demo']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      [
        '2026-11-27 10:14:57 UTC  INFO   gateway  demo  Ready phase=Ready',
        '2026-11-27 10:15:02 UTC  DENY   proxy    demo  /usr/bin/curl → example.com:443  CONNECT  error=policy_denied  no matching policy',
        '2026-11-27 10:15:03 UTC  ALLOW  proxy    demo  /usr/bin/curl(42) → api.github.com:443  GET /repos/o/r  policy=github_api  rule="GET /repos/**"  allowed by rule',
        '',
      ].join('\n'),
    );
    expect(fake.filters).toEqual([
      { method: 'getLogs', filter: { sandbox: 'demo', sources: [], limit: 200 } },
    ]);
  });

  test('filters map to the request: -n, --since, --source (repeatable), --level', async () => {
    const before = Date.now();
    const r = await h.cli([
      'logs',
      'demo',
      '-n',
      '5',
      '--since',
      '5m',
      '--source',
      'proxy',
      '--source',
      'sandbox',
      '--level',
      'warn',
    ]);
    const after = Date.now();
    expect(r.code).toBe(0);
    const filter = fake.filters[0]?.filter;
    expect(filter).toMatchObject({
      sandbox: 'demo',
      limit: 5,
      sources: [LogSource.LOG_SOURCE_PROXY, LogSource.LOG_SOURCE_SANDBOX],
      minLevel: LogLevel.LOG_LEVEL_WARN,
    });
    expect(filter?.sinceMs).toBeGreaterThanOrEqual(before - 300_000 - 60_000);
    expect(filter?.sinceMs).toBeLessThanOrEqual(after - 300_000);

    const iso = await h.cli(['logs', '--all', '--since', '2026-11-27 10:00:00 UTC']);
    expect(iso.code).toBe(0);
    expect(fake.filters[1]?.filter).toEqual({
      sinceMs: Date.UTC(2026, 10, 27, 10),
      sources: [],
      limit: 200,
    });
  });

  test.for([
    [['--since', 'yesterday'], '--since yesterday: expected a duration such as 30s'],
    [['-n', '0'], '-n 0: give a count from 1 to 100000'],
    [['--source', 'kernel'], 'Expected --source=kernel to be one of: gateway, sandbox, proxy'],
    [['demo', '--all'], 'give a sandbox NAME or --all, not both'],
  ] as const)('%j → exit 2 without a call', async ([flags, message]) => {
    const r = await h.cli(['logs', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(fake.filters).toEqual([]);
  });

  test('-o json is an array of stable objects', async () => {
    const r = await h.cli(['logs', 'demo', '-o', 'json']);
    const entries = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(entries.map((e) => [e['type'], e['action'] ?? e['kind']])).toEqual([
      ['lifecycle', 'ready'],
      ['decision', 'deny'],
      ['decision', 'allow'],
    ]);
    expect(entries[2]).toMatchObject({
      method: 'GET',
      path: '/repos/o/r',
      policy: 'github_api',
      rule: 'GET /repos/**',
      pid: 42,
    });
  });

  test('without a name: every sandbox until one was used, then the last-used one', async () => {
    await h.cli(['logs']);
    expect(fake.filters[0]?.filter?.sandbox).toBeUndefined();
    // `logs NAME` does not make NAME the default; commands that act on a sandbox do.
    await h.cli(['logs', 'demo']);
    await h.cli(['logs']);
    expect(fake.filters[2]?.filter?.sandbox).toBeUndefined();
    await writeFile(join(h.configDir, 'gateways', 'local', 'last_sandbox'), 'demo\n');
    await h.cli(['logs']);
    expect(fake.filters[3]?.filter?.sandbox).toBe('demo');
    await h.cli(['logs', '--all']);
    expect(fake.filters[4]?.filter?.sandbox).toBeUndefined();
  });

  test('--tail streams backlog then live entries as JSON lines until Ctrl-C, then exits 0', async () => {
    const child = spawn(process.execPath, [CLI_BIN, 'logs', 'demo', '--tail', '-o', 'json'], {
      env: mergeEnv(h.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const sawLive = new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('/live')) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    await sawLive;
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { path?: string; kind?: string });
    expect(lines.map((l) => l.path ?? l.kind ?? null)).toEqual([
      'ready',
      null,
      '/repos/o/r',
      '/live',
    ]);
    expect(fake.filters).toEqual([
      { method: 'followLogs', filter: { sandbox: 'demo', sources: [], limit: 200 } },
    ]);
    await vi.waitFor(() => expect(fake.followCancelled).toEqual([true]));
    expect(stderr.replace(/.*DEP0123.*\n|\(Use `node --trace.*\n/g, '')).toBe('');
  });
});

/** The test env with `env` applied (undefined removes a variable), as runCli does. */
function mergeEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}
