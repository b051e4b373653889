import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runCli } from './run-cli.js';

// The full-screen path (TTY, gateway, keys) is covered by e2e/term-dashboard.test.ts in tmux;
// this pins the refusal that keeps a script or a pipe from getting a dashboard it cannot use.
test('term without a terminal exits 2 with what to use instead, before touching any gateway', async () => {
  const configDir = await mkdtemp(join(tmpdir(), 'openshell-term-'));
  try {
    const r = await runCli(['term'], { env: { OPENSHELL_CONFIG_DIR: configDir } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('openshell term needs a terminal');
    expect(r.stderr).toContain("'openshell sandbox list -o json'");
    // Nothing was started or configured: the config dir is still empty.
    expect(await readdir(configDir)).toEqual([]);
    // Control: the command itself exists and documents its keys.
    const help = await runCli(['term', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('d delete (asks y/n)');
  } finally {
    await rm(configDir, { recursive: true, force: true });
  }
});
