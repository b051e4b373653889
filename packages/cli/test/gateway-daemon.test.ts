import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { makeCliEnv } from './helpers/cli-env.js';
import { runCli } from './run-cli.js';

// The fake daemon is a separate node process that compiles TypeScript (tsx) and makes
// certificates with openssl; with several CLI spawns per test this needs a generous timeout.
vi.setConfig({ testTimeout: 180_000 });

const FAKE_DAEMON = fileURLToPath(new URL('./helpers/fake-daemon.mjs', import.meta.url));
const started: number[] = [];

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readState(stateDir: string): Promise<{ pid: number; grpcEndpoint: string }> {
  const text = await readFile(join(stateDir, 'gateway/gateway.json'), 'utf8');
  const state = JSON.parse(text) as { pid: number; grpcEndpoint: string };
  started.push(state.pid);
  return state;
}

afterEach(() => {
  // Only daemons this file started, by pid.
  for (const pid of started.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
});

describe('gateway start/status/logs/stop', () => {
  test('start spawns the daemon, adopts its credentials; a second start says it runs; stop ends it', async () => {
    const { env, configDir, stateDir } = await makeCliEnv(FAKE_DAEMON);
    const cli = (args: string[]) => runCli(args, { env });

    const r = await cli([
      'gateway',
      'start',
      '--state-dir',
      stateDir,
      '--port',
      '0',
      '--resolve',
      'example.com:443=127.0.0.1:8443',
      '--upstream-ca',
      '/etc/ssl/extra.pem',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const state = await readState(stateDir);
    expect(r.stdout).toBe(
      `✓ Started the local gateway (pid ${state.pid}, ${state.grpcEndpoint}; logs: openshell gateway logs)\n`,
    );
    expect(JSON.parse(await readFile(join(stateDir, 'argv.json'), 'utf8'))).toEqual([
      '--state-dir',
      stateDir,
      '--port',
      '0',
      '--http-port',
      '17671',
      '--resolve',
      'example.com:443=127.0.0.1:8443',
      '--upstream-ca',
      '/etc/ssl/extra.pem',
    ]);
    const gwDir = join(configDir, 'gateways/local');
    expect(JSON.parse(await readFile(join(gwDir, 'metadata.json'), 'utf8'))).toEqual({
      name: 'local',
      endpoint: state.grpcEndpoint,
      stateDir,
    });
    expect((await stat(join(gwDir, 'client.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(gwDir)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(configDir, 'active_gateway'), 'utf8')).toBe('local\n');

    const status = JSON.parse((await cli(['status', '-o', 'json'])).stdout);
    expect(status).toMatchObject({ status: 'Connected', server: state.grpcEndpoint });

    const again = await cli(['gateway', 'start']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(
      `The local gateway is already running (pid ${state.pid}, ${state.grpcEndpoint}).\n`,
    );

    const gs = JSON.parse((await cli(['gateway', 'status', '-o', 'json'])).stdout);
    expect(gs).toMatchObject({
      running: true,
      pid: state.pid,
      grpc_endpoint: state.grpcEndpoint,
      state_dir: stateDir,
    });
    expect((await cli(['gateway', 'logs', '-n', '1'])).stdout).toBe(
      `fake daemon listening on ${state.grpcEndpoint}\n`,
    );

    const stop = await cli(['gateway', 'stop']);
    expect(stop.stdout).toBe(`✓ Stopped the local gateway (pid ${state.pid})\n`);
    expect(isAlive(state.pid)).toBe(false);
    await expect(stat(join(stateDir, 'gateway/gateway.json'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    const stopAgain = await cli(['gateway', 'stop']);
    expect(stopAgain).toMatchObject({
      code: 0,
      stdout: `The local gateway is not running (state dir ${stateDir}).\n`,
    });
    expect(JSON.parse((await cli(['gateway', 'status', '-o', 'json'])).stdout).running).toBe(false);
  });
});

describe('auto-start', () => {
  test('the first command on a fresh install starts the local gateway with the proxy env settings', async () => {
    const { env, stateDir } = await makeCliEnv(FAKE_DAEMON);
    const r = await runCli(['sandbox', 'list'], {
      env: {
        ...env,
        OPENSHELL_PROXY_RESOLVE: 'a.test:443=127.0.0.1:1, b.test:443=127.0.0.1:2',
        OPENSHELL_PROXY_UPSTREAM_CA: '/tmp/ca.pem',
      },
    });
    const state = await readState(stateDir);
    expect(r).toMatchObject({ code: 0, stdout: 'No sandboxes found.\n' });
    const argv = JSON.parse(await readFile(join(stateDir, 'argv.json'), 'utf8')) as string[];
    expect(argv).toEqual([
      '--state-dir',
      stateDir,
      '--port',
      '17670',
      '--http-port',
      '17671',
      '--resolve',
      'a.test:443=127.0.0.1:1',
      '--resolve',
      'b.test:443=127.0.0.1:2',
      '--upstream-ca',
      '/tmp/ca.pem',
    ]);
    expect(isAlive(state.pid)).toBe(true);
  });

  test('a daemon that dies at start: the error carries the log tail; status shows Disconnected', async () => {
    const { env } = await makeCliEnv(FAKE_DAEMON);
    const failing = { ...env, FAKE_DAEMON_FAIL: '1' };
    const r = await runCli(['sandbox', 'list'], { env: failing });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the local gateway exited with code 1 before it was ready');
    expect(r.stderr).toContain('fatal: cannot bind 127.0.0.1:17670: address already in use');
    const s = await runCli(['status'], { env: failing });
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^Status: +Disconnected \(the local gateway exited with code 1/m);
  });

  test.for([
    [['sandbox', 'list', '-g', 'remote'], 2, 'gateway "remote" is not configured'],
    [
      ['sandbox', 'list', '--gateway-endpoint', 'https://127.0.0.1:1'],
      1,
      'no client credentials for gateway "local"',
    ],
  ] as const)('no auto-start for %j → exit %i', async ([args, code, message]) => {
    const { env, stateDir } = await makeCliEnv(FAKE_DAEMON);
    const r = await runCli(args, { env });
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(message);
    await expect(stat(join(stateDir, 'argv.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
