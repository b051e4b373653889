import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { makeCliEnv } from './helpers/cli-env.js';
import { startFakeGateway, type FakeGateway } from './helpers/fake-gateway.js';
import { makeTestCerts } from './helpers/test-certs.js';
import { CLI_BIN } from './run-cli.js';

const run = promisify(execFile);

/** POSIX single-quoting: script(1) takes one shell command string, so each argv item is quoted. */
const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

let gateway: FakeGateway;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  const certs = await makeTestCerts(await mkdtemp(join(tmpdir(), 'openshell-certs-')));
  gateway = await startFakeGateway({ certs });
  const made = await makeCliEnv();
  env = made.env;
  await gateway.writeConfig(made.configDir);
  gateway.seed('demo');
});
afterAll(async () => {
  await gateway.close();
});

// script(1) gives the CLI a real pseudo-terminal as stdin/stdout, the only way to exercise
// raw mode and its restoration without a human at a keyboard.
test(
  'on a terminal: a PTY is requested with its size, and the terminal settings are restored',
  { timeout: 120_000 },
  async () => {
    const cli = (...args: string[]) => [process.execPath, CLI_BIN, ...args].map(quote).join(' ');
    const shell = [
      'stty -g',
      cli('sandbox', 'exec', '-n', 'demo', '--', 'env'),
      cli('sandbox', 'exec', '-n', 'demo', '--', 'exit', '5'),
      'echo "rc=$?"',
      'stty -g',
      cli('sandbox', 'exec', '-n', 'demo', '--no-tty', '--', 'env'),
    ].join('; ');
    const { stdout } = await run('script', ['-qec', shell, '/dev/null'], {
      env: { ...process.env, ...env, NO_COLOR: '1' },
      timeout: 110_000,
    });
    const lines = stdout.split(/\r?\n/).filter((l) => l !== '');
    const [before, withTty, rc, after, withoutTty] = lines;
    expect(JSON.parse(withTty ?? '')).toMatchObject({ tty: true });
    expect(rc).toBe('rc=5');
    expect(after).toBe(before);
    expect(JSON.parse(withoutTty ?? '')).toMatchObject({ tty: false });
    const ttyStart = gateway.execStarts.find((s) => s.tty);
    expect(ttyStart?.size?.rows).toBeGreaterThan(0);
    expect(ttyStart?.size?.cols).toBeGreaterThan(0);
  },
);
