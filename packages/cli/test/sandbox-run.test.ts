import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { makeCliEnv } from './helpers/cli-env.js';
import { startFakeGateway, type FakeGateway } from './helpers/fake-gateway.js';
import { makeTestCerts } from './helpers/test-certs.js';
import { runCli } from './run-cli.js';

// Every test spawns the real CLI (node + oclif) one or more times; on a loaded 2-core
// machine one spawn can take several seconds.
vi.setConfig({ testTimeout: 90_000 });

let gateway: FakeGateway;
let env: Record<string, string | undefined>;
let work: string;

beforeAll(async () => {
  const certs = await makeTestCerts(await mkdtemp(join(tmpdir(), 'openshell-certs-')));
  gateway = await startFakeGateway({
    certs,
    failing: { broken: 'bwrap: setting up uid map: Permission denied' },
  });
});
afterAll(async () => {
  await gateway.close();
});
beforeEach(async () => {
  for (const name of [...gateway.sandboxes.keys()]) gateway.sandboxes.delete(name);
  gateway.calls.length = 0;
  gateway.execStarts.length = 0;
  gateway.providerRequests.length = 0;
  const made = await makeCliEnv();
  env = made.env;
  work = await mkdtemp(join(tmpdir(), 'openshell-work-'));
  await gateway.writeConfig(made.configDir);
});

const cli = (
  args: string[],
  opts: { stdin?: string; env?: Record<string, string | undefined> } = {},
) =>
  runCli(args, {
    env: { ...env, ...opts.env },
    ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
  });

describe('sandbox create', () => {
  test('waits for Ready through the watch, runs the command, relays output and its exit code', async () => {
    const r = await cli(['sandbox', 'create', '--name', 'demo', '--', 'echo', 'hello', 'world']);
    expect(r.stdout).toBe('hello world\n');
    expect(r.code).toBe(0);
    // Phase changes come from WatchSandboxes, never from polling GetSandbox.
    expect(gateway.calls).toEqual(['health', 'createSandbox', 'watchSandboxes', 'exec']);
    const start = gateway.execStarts[0];
    expect(start).toMatchObject({ sandbox: 'demo', argv: ['echo', 'hello', 'world'], tty: false });
    // Without --detach the main process stays the gateway's idle one (gateway-wire.md).
    expect(gateway.sandboxes.get('demo')?.spec?.command).toEqual([]);
    expect(gateway.sandboxes.get('demo')?.spec?.deleteOnExit).toBe(false);
  });

  test.for([
    [['exit', '7'], 7],
    [['kill', 'SIGKILL'], 137],
    [['kill', 'SIGTERM'], 143],
  ] as const)('remote %j → CLI exit %i', async ([argv, code]) => {
    const r = await cli(['sandbox', 'create', '--', ...argv]);
    expect(r.code).toBe(code);
  });

  test('Error phase → exit 1 with the gateway reason', async () => {
    const r = await cli(['sandbox', 'create', '--name', 'broken', '--', 'echo', 'never']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'sandbox "broken" failed to start: bwrap: setting up uid map: Permission denied',
    );
    expect(r.stdout).toBe('');
    expect(gateway.calls).not.toContain('exec');
  });

  test('--no-keep deletes the sandbox after the session; the default keeps it', async () => {
    expect((await cli(['sandbox', 'create', '--name', 'kept', '--', 'echo'])).code).toBe(0);
    expect(gateway.sandboxes.has('kept')).toBe(true);
    const r = await cli(['sandbox', 'create', '--name', 'gone', '--no-keep', '--', 'exit', '4']);
    expect(r.code).toBe(4);
    expect(gateway.sandboxes.has('gone')).toBe(false);
  });

  test('--detach -o json: the command is the main process, the record is printed, no exec', async () => {
    const r = await cli([
      'sandbox',
      'create',
      '--name',
      'worker',
      '--detach',
      '--no-keep',
      '--label',
      'team=infra',
      '--env',
      'A=1',
      '-o',
      'json',
      '--',
      'python',
      'serve.py',
    ]);
    expect(r.code).toBe(0);
    const record = JSON.parse(r.stdout);
    expect(Object.keys(record)).toEqual([
      'id',
      'name',
      'labels',
      'created_at',
      'phase',
      'current_policy_version',
    ]);
    expect(record).toMatchObject({ name: 'worker', phase: 'Ready', labels: { team: 'infra' } });
    expect(gateway.calls).not.toContain('exec');
    expect(gateway.sandboxes.get('worker')?.spec).toMatchObject({
      command: ['python', 'serve.py'],
      env: { A: '1' },
      deleteOnExit: true,
    });
  });

  test('--cpu and --memory become millicores and bytes', async () => {
    const r = await cli([
      'sandbox',
      'create',
      '--name',
      'sized',
      '--cpu',
      '1.5',
      '--memory',
      '512m',
      '--detach',
    ]);
    expect(r.code).toBe(0);
    expect(gateway.sandboxes.get('sized')?.spec).toMatchObject({
      cpuMillicores: 1500,
      memoryBytes: 512 * 1024 * 1024,
    });
  });

  test.for([
    [['--cpu', 'two'], '--cpu two: expected a positive number of CPUs'],
    [['--cpu', '0'], '--cpu 0: expected a positive number'],
    [['--memory', '12q'], '--memory 12q: expected a size'],
    [['--env', 'NOEQUALS'], '--env NOEQUALS: expected KEY=VALUE'],
  ] as const)('%j → exit 2 before any RPC', async ([flags, message]) => {
    const r = await cli(['sandbox', 'create', ...flags, '--', 'echo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(gateway.calls).toEqual([]);
  });

  test('an invalid --policy fails with file:line:col before any RPC; a valid one is sent', async () => {
    const bad = join(work, 'bad.yaml');
    await writeFile(bad, 'version: 1\nfilesystem_policy:\n  read_write: [/]\n');
    const r = await cli(['sandbox', 'create', '--policy', bad, '--', 'echo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${bad}:3:\\d+ filesystem_policy\\.read_write`));
    expect(gateway.calls).toEqual([]);

    const good = join(work, 'good.yaml');
    const text = 'version: 1\nnetwork_policies: {}\n';
    await writeFile(good, text);
    expect(
      (await cli(['sandbox', 'create', '--name', 'pol', '--policy', good, '--detach'])).code,
    ).toBe(0);
    const request = (
      gateway.sandboxes.get('pol') as unknown as { request: Record<string, unknown> }
    ).request;
    expect(request).toMatchObject({ policyYaml: text, policyFileName: good });
  });
});

describe('provider auto-detection', () => {
  test('non-interactive without a flag: nothing created, stderr says what to pass', async () => {
    const r = await cli(['sandbox', 'create', '--name', 'agent', '--', 'claude', '--help'], {
      env: { ANTHROPIC_API_KEY: 'sk-ant-test-secret' },
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Pass --auto-providers to create provider "claude-code"');
    expect(r.stderr).not.toContain('sk-ant-test-secret');
    expect(gateway.providerRequests).toEqual([]);
    expect(gateway.sandboxes.get('agent')?.spec?.providers).toEqual([]);
  });

  test('--auto-providers creates the provider from the variables and attaches it', async () => {
    const r = await cli(
      ['sandbox', 'create', '--name', 'agent', '--auto-providers', '--', '/usr/local/bin/claude'],
      {
        env: { ANTHROPIC_API_KEY: 'sk-ant-test-secret', CLAUDE_API_KEY: undefined },
      },
    );
    expect(r.code).toBe(0);
    expect(gateway.providerRequests).toEqual([
      {
        name: 'claude-code',
        type: 'claude-code',
        credentials: { ANTHROPIC_API_KEY: 'sk-ant-test-secret' },
        allowedHosts: [],
      },
    ]);
    expect(gateway.sandboxes.get('agent')?.spec?.providers).toEqual(['claude-code']);
    expect(r.stderr + r.stdout).not.toContain('sk-ant-test-secret');
  });

  test('--no-auto-providers and a non-agent command create nothing and say nothing', async () => {
    const skip = await cli(['sandbox', 'create', '--no-auto-providers', '--', 'claude'], {
      env: { ANTHROPIC_API_KEY: 'x' },
    });
    const other = await cli(['sandbox', 'create', '--', 'bash'], {
      env: { ANTHROPIC_API_KEY: 'x' },
    });
    for (const r of [skip, other]) {
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('auto-providers');
    }
    expect(gateway.providerRequests).toEqual([]);
  });
});

describe('sandbox exec', () => {
  test('stdin is forwarded and EOF ends it', async () => {
    gateway.seed('demo');
    const r = await cli(['sandbox', 'exec', '-n', 'demo', '--', 'cat'], {
      stdin: 'line one\nline two\n',
    });
    expect(r.stdout).toBe('line one\nline two\n');
    expect(r.code).toBe(0);
  });

  test('stderr goes to stderr; --env, --workdir and --no-tty reach the gateway', async () => {
    gateway.seed('demo');
    const err = await cli(['sandbox', 'exec', '-n', 'demo', '--', 'stderr', 'oops']);
    expect(err).toMatchObject({ code: 0, stdout: '', stderr: 'oops\n' });
    const r = await cli([
      'sandbox',
      'exec',
      '-n',
      'demo',
      '--env',
      'K=V',
      '--workdir',
      '/tmp',
      '--no-tty',
      '--',
      'env',
    ]);
    expect(JSON.parse(r.stdout)).toEqual({ env: { K: 'V' }, tty: false, workdir: '/tmp' });
  });

  test('--timeout: the remote kill surfaces as exit 124 with a message', async () => {
    gateway.seed('demo');
    const r = await cli(['sandbox', 'exec', '-n', 'demo', '--timeout', '1', '--', 'sleep', '100']);
    expect(r.code).toBe(124);
    expect(r.stderr).toContain('timed out after 1 s');
    expect(gateway.execStarts[0]?.timeoutMs).toBe(1000);
  });

  test('a missing command is a usage error', async () => {
    gateway.seed('demo');
    const r = await cli(['sandbox', 'exec', '-n', 'demo']);
    expect(r.code).toBe(2);
    expect(gateway.calls).toEqual([]);
  });
});

describe('sandbox connect', () => {
  test('Ctrl-P Ctrl-Q detaches and prints how to re-attach', async () => {
    gateway.seed('demo');
    const r = await cli(['sandbox', 'connect', 'demo'], { stdin: 'ls\n\u0010\u0011' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('echo:ls\n');
    expect(r.stderr).toContain('Re-attach with: openshell sandbox connect demo --session sess-1');
  });

  test('--session re-attaches; the shell exit code becomes the CLI exit code', async () => {
    gateway.seed('demo');
    const r = await cli(['sandbox', 'connect', 'demo', '--session', 'sess-9'], { stdin: 'exit\n' });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('echo:exit\n');
  });
});
