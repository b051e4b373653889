import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { freePort, isolatedEnv, run } from './helpers/isolated-gateway.js';

const NAMES = {
  prefix: 'erd',
  serviceAddress: '10.239.30.1',
  pool: '10.239.31.0/24',
  uidBase: 239_310,
};

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** The README's set-up section: the first two ```sh blocks are the main job and the tests. */
async function readmeCommands(): Promise<string[]> {
  const readme = await readFile(`${REPO}README.md`, 'utf8');
  const section = readme.split('## Set-up: two commands')[1] ?? '';
  return [...section.matchAll(/```sh\n([^`]+?)\n```/g)].map((m) => (m[1] ?? '').trim());
}

test('README set-up has exactly two commands, both starting with the idempotent set-up script', async () => {
  const commands = await readmeCommands();
  expect(commands).toHaveLength(2);
  for (const cmd of commands) expect(cmd).toMatch(/^bash scripts\/setup\.sh (--for-tests )?&& /);
  expect(commands[0]?.startsWith('bash scripts/setup.sh && ')).toBe(true);
  expect(commands[1]).toBe('bash scripts/setup.sh --for-tests && pnpm test');
});

test("README's main job runs as written (after set-up) and succeeds", async () => {
  const [main] = await readmeCommands();
  // Set-up already ran (this test runs from the built tree); run the rest exactly as written.
  // The gateway it auto-starts gets this test's own state, ports, addresses and uids through
  // the environment, so a user's own gateway on this machine is neither used nor disturbed.
  const rest = (main ?? '').replace(/^bash scripts\/setup\.sh && /, '');
  const dir = await mkdtemp('/var/tmp/openshell-e2e-readme-');
  const env = await isolatedEnv(dir, NAMES, {
    OPENSHELL_GATEWAY_PORT: String(await freePort()),
    OPENSHELL_GATEWAY_HTTP_PORT: String(await freePort()),
  });

  const sh = (command: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'sh',
        ['-c', command],
        { cwd: REPO, env, timeout: 120_000 },
        (error, stdout, stderr) => {
          resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr });
        },
      );
    });
  try {
    const result = await sh(rest);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      'inside: /sandbox as sandbox\negress to example.com: blocked by policy\n',
    );
    // --no-keep: the sandbox is gone again.
    expect((await sh('./openshell sandbox list')).stdout).toBe('No sandboxes found.\n');
  } finally {
    await sh('./openshell gateway stop');
    await run('ip', ['addr', 'del', `${NAMES.serviceAddress}/32`, 'dev', 'lo']).catch(
      () => undefined,
    );
    await rm(dir, { recursive: true, force: true });
  }
}, 180_000);
