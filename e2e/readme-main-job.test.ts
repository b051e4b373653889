import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

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
  for (const cmd of commands) expect(cmd.startsWith('bash scripts/setup.sh && ')).toBe(true);
  expect(commands[1]).toBe('bash scripts/setup.sh && pnpm test');
});

test("README's main job runs as written (after set-up) and succeeds", async () => {
  const [main] = await readmeCommands();
  // Set-up already ran (this test runs from the built tree); run the rest exactly as written.
  const rest = (main ?? '').replace(/^bash scripts\/setup\.sh && /, '');
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('sh', ['-c', rest], { cwd: REPO, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr });
    });
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/is valid/);
  expect(result.stdout).toMatch(/^Action: {2}allow$/m);
});
