// Issue #6's acceptance run: `openshell term` in a real terminal (tmux, 80×24) against a real
// local gateway, proxy and sandbox. Another shell creates a sandbox and makes a denied request;
// the screen (tmux capture-pane) must show the sandbox appear and the deny arrive; then d, y
// delete it from the dashboard. The gateway gets this file's own addresses, ports, uids and
// state through the environment (as lifecycle-acceptance does, with its own prefix), so it can
// run beside other tests and beside a user's own gateway. Nothing leaves the host: the default
// policy denies example.com at CONNECT, before any upstream connection.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLI, freePort, isolatedEnv, run, runOpenshell } from './helpers/isolated-gateway.js';

// A user's terminal, not CI: ink renders only the final frame when it detects CI (is-in-ci reads
// CI, CONTINUOUS_INTEGRATION and CI_*), and the test runner's CI=true would reach the tmux shell.
const UNSET_CI =
  'unset CI CONTINUOUS_INTEGRATION; for v in $(env | sed -n "s/^\\(CI_[A-Za-z0-9_]*\\)=.*/\\1/p"); do unset "$v"; done';
const NAMES = {
  prefix: 'etm',
  serviceAddress: '10.239.32.1',
  pool: '10.239.33.0/24',
  uidBase: 239_330,
};
// A private tmux server (-L) so the test never touches the user's sessions.
const TMUX = ['-L', `openshell-etm-${process.pid}`];
const SESSION = 'term';

let dir: string;
let env: NodeJS.ProcessEnv;
let gatewayStart: string[];

function openshell(args: readonly string[]) {
  return runOpenshell(env, dir, args);
}

async function tmux(...args: string[]): Promise<string> {
  return (await run('tmux', [...TMUX, ...args])).stdout;
}

async function screen(): Promise<string> {
  return tmux('capture-pane', '-p', '-t', SESSION);
}

async function waitForScreen(check: (text: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  let text = '';
  while (Date.now() < deadline) {
    text = await screen();
    if (check(text)) return text;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; screen:\n${text}`);
}

beforeAll(async () => {
  dir = await mkdtemp('/var/tmp/openshell-e2e-term-');
  env = await isolatedEnv(dir, NAMES, {
    TERM: 'xterm-256color',
    // Any name the sandbox resolves through the proxy lands on a closed loopback port.
    OPENSHELL_PROXY_RESOLVE: `example.com:443=127.0.0.1:${String(await freePort())}`,
  });

  const [port, httpPort] = [await freePort(), await freePort()];
  gatewayStart = [
    ...['gateway', 'start', '--port', String(port), '--http-port', String(httpPort)],
    ...['--resolve', env['OPENSHELL_PROXY_RESOLVE'] ?? ''],
  ];
  const started = await openshell(gatewayStart);
  expect(started.code, started.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await tmux('kill-server').catch(() => undefined);
  await openshell(['sandbox', 'delete', '--all']);
  await openshell(['gateway', 'stop']);
  await run('ip', ['addr', 'del', `${NAMES.serviceAddress}/32`, 'dev', 'lo']).catch(
    () => undefined,
  );
  await rm(dir, { recursive: true, force: true });
}, 120_000);

test('term shows a sandbox appear, its deny arrive, and deletes it with d y', async () => {
  const script = join(dir, 'term.sh');
  const exports = Object.entries(env)
    .map(([k, v]) => `export ${k}=${JSON.stringify(v ?? '')}`)
    .join('\n');
  // After quitting, the shell prints the exit code and stays, so the restored screen can be read.
  await writeFile(
    script,
    `${exports}\n${UNSET_CI}\nNO_COLOR=1 ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} term\necho "term exited $?"\nsleep 600\n`,
  );
  await tmux('new-session', '-d', '-s', SESSION, '-x', '80', '-y', '24', `bash ${script}`);
  await waitForScreen(
    (t) => t.includes('No sandboxes yet') && t.includes('connected'),
    'the empty dashboard',
  );

  const created = await openshell([
    'sandbox',
    'create',
    '--name',
    'tdemo',
    '--detach',
    '--',
    'sleep',
    '600',
  ]);
  expect(created.code, created.stderr).toBe(0);
  await waitForScreen((t) => /> tdemo +Ready +\S+ +v1 /.test(t), 'tdemo to appear Ready');

  await tmux('send-keys', '-t', SESSION, 'l');
  await waitForScreen((t) => t.includes('Logs: tdemo'), 'the log pane');
  const denied = await openshell([
    'sandbox',
    'exec',
    '-n',
    'tdemo',
    '--',
    'curl',
    '-sS',
    '-I',
    'https://example.com/',
  ]);
  expect(denied.code).not.toBe(0);
  const withDeny = await waitForScreen(
    (t) =>
      /\d\d:\d\d:\d\d {2}DENY {3}\/usr\/bin\/curl\(\d+\) → example\.com:443 {2}CONNECT/.test(t) &&
      /tdemo +Ready +\S+ +v1 +0 +1\b/.test(t),
    'the deny in the log and the denied count',
  );
  // 80×24: the header is still the first row (nothing scrolled off) and every row fits.
  const lines = withDeny.trimEnd().split('\n');
  expect(lines[0]).toContain('openshell term');
  expect(lines.length).toBeLessThanOrEqual(24);
  expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
  expect(withDeny).not.toContain('\u001b[');

  await tmux('send-keys', '-t', SESSION, 'd');
  await waitForScreen((t) => t.includes('Delete sandbox tdemo? (y/n)'), 'the confirm prompt');
  await tmux('send-keys', '-t', SESSION, 'y');
  await waitForScreen(
    (t) => t.includes('Sandboxes (0)') && t.includes('No sandboxes yet'),
    'tdemo to go',
  );
  const list = await openshell(['sandbox', 'list']);
  expect(list.stdout).toBe('No sandboxes found.\n');

  // The gateway goes away: a message, not a crash; it comes back: the dashboard reconnects.
  const stopped = await openshell(['gateway', 'stop']);
  expect(stopped.code, stopped.stderr).toBe(0);
  await waitForScreen((t) => t.includes('Gateway unreachable'), 'the outage message');
  const restarted = await openshell(gatewayStart);
  expect(restarted.code, restarted.stderr).toBe(0);
  await waitForScreen(
    (t) =>
      t.includes('● connected') && !t.includes('unreachable') && t.includes('No sandboxes yet'),
    'the reconnect',
  );

  // A wider terminal: the layout follows (the NAME column takes the extra columns).
  expect(await screen()).not.toMatch(/NAME {60,}PHASE/);
  await tmux('resize-window', '-t', SESSION, '-x', '120', '-y', '30');
  await waitForScreen((t) => /NAME {60,}PHASE/.test(t), 'the resized layout');

  await tmux('send-keys', '-t', SESSION, 'q');
  const after = await waitForScreen((t) => t.includes('term exited'), 'term to exit');
  expect(after).toContain('term exited 0');
  // The alternate screen is gone: the dashboard's header is no longer on screen.
  expect(after).not.toContain('openshell term');
}, 300_000);
