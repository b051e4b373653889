import { expect, test } from 'vitest';
import { runCli } from './run-cli.js';

// Runs against this machine, which CI requires to enforce everything: the test fails
// (with doctor's own findings) rather than skipping when a feature is missing.
test('doctor -o json: this host is ready, every check has a stable shape', async () => {
  const r = await runCli(['doctor', '-o', 'json']);
  const report = JSON.parse(r.stdout);
  const problems = (report.checks as { name: string; status: string; detail: string }[]).filter(
    (c) => c.status !== 'ok',
  );
  expect(problems).toEqual([]);
  expect(r.code).toBe(0);
  expect(report.ready).toBe(true);
  expect(Object.keys(report)).toEqual(['ready', 'checks', 'kernel', 'engine']);
  // The container engine is informational (only --driver docker needs one): either it
  // answered and names itself, or the error says why not.
  expect(Object.keys(report.engine).sort()).toEqual(['engine', 'error', 'socket']);
  expect(report.engine.engine === null).toBe(report.engine.error !== null);
  for (const check of report.checks) {
    expect(Object.keys(check).sort()).toEqual(['detail', 'domain', 'fix', 'name', 'status']);
  }
  expect(report.kernel.landlock.abi).toBeGreaterThanOrEqual(1);
});

test('doctor table: one line per check and a verdict', async () => {
  const r = await runCli(['doctor']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^✓ root {2,}running as root$/m);
  expect(r.stdout).toMatch(/^✓ landlock {2,}ABI \d+/m);
  expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^This host can run sandboxes/);
});
