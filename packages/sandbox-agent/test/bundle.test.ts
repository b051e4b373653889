// dist/agent.bundle.mjs is what every sandbox starts; its build swaps in a precompiled policy
// validator for ajv's run-time compile (scripts/precompile-policy-validator.mjs) and leaves
// grpc-js out of the start path. These run the built bundle itself, in file mode, and check it
// judges policies exactly as @openshell/policy-schema does.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic, parsePolicy } from '@openshell/policy-schema';
import { afterAll, describe, expect, test } from 'vitest';
import { testPolicy } from './harness.js';

const BUNDLE = fileURLToPath(new URL('../dist/agent.bundle.mjs', import.meta.url));
const dir = mkdtempSync('/tmp/osa-bundle-');
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the bundle in file mode with `policy` until it refuses or its control socket listens. */
function runBundle(name: string, policy: string): { status: number | null; stderr: string } {
  const caseDir = join(dir, name);
  const socket = join(caseDir, 'control.sock');
  spawnSync('mkdir', ['-p', caseDir]);
  writeFileSync(join(caseDir, 'policy.yaml'), policy);
  writeFileSync(
    join(caseDir, 'spec.json'),
    JSON.stringify({ process: { argv: ['true'] }, policyFile: 'policy.yaml' }),
  );
  // A started agent keeps serving; `timeout` ends it once it had time to say it listens.
  const result = spawnSync(
    'timeout',
    [
      '5',
      process.execPath,
      BUNDLE,
      '--spec-file',
      join(caseDir, 'spec.json'),
      '--control-socket',
      socket,
      '--home',
      '/tmp',
    ],
    { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } },
  );
  return { status: result.status, stderr: result.stderr };
}

describe('the agent bundle', () => {
  test.for([
    { name: 'unknown-key', extra: 'filesystem_polcy: {}\n' },
    { name: 'wrong-type', extra: 'landlock:\n  compatibility: 3\n' },
    {
      name: 'bad-port',
      extra:
        'network_policies:\n  r:\n    endpoints: [{host: api.example.com, port: 70000}]\n    binaries: [{path: /usr/bin/curl}]\n',
    },
  ])(
    'refuses an invalid policy ($name) with the diagnostics parsePolicy gives',
    ({ name, extra }) => {
      const policy = testPolicy('/tmp', extra);
      const expected = parsePolicy(policy, { file: 'policy v1' }).diagnostics;
      expect(expected.length).toBeGreaterThan(0);
      const { status, stderr } = runBundle(name, policy);
      expect(status).not.toBe(0);
      expect(status).not.toBe(124); // refused at once, not killed by `timeout`
      for (const diagnostic of expected.slice(0, 5)) {
        expect(stderr).toContain(formatDiagnostic(diagnostic));
      }
    },
  );

  test('what every sandbox start parses leaves out the tar codec and grpc-js (loaded on use)', () => {
    // The static import closure of the entry: what node must parse before the agent runs.
    const dist = dirname(BUNDLE);
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(join(dist, file), 'utf8');
      for (const match of source.matchAll(/from"\.\/(agent\.chunk-[A-Z0-9]+\.mjs)"/g))
        visit(match[1] ?? '');
    };
    visit(basename(BUNDLE));
    const onStart = [...seen].map((file) => readFileSync(join(dist, file), 'utf8')).join('\n');
    const all = readdirSync(dist)
      .filter((file) => file.startsWith('agent.') && file.endsWith('.mjs'))
      .map((file) => readFileSync(join(dist, file), 'utf8'))
      .join('\n');
    // Positive control: both are in the build, reachable through dynamic imports.
    for (const marker of ['TAR_ENTRY_INVALID', 'makeGenericClientConstructor']) {
      expect(all).toContain(marker);
      expect(onStart).not.toContain(marker);
    }
  });

  test('accepts a valid policy and serves its control socket (positive control)', () => {
    const { status, stderr } = runBundle('valid', testPolicy('/tmp'));
    expect(stderr).toContain('control socket listening');
    expect(status).toBe(124); // still running when `timeout` stopped it
  });
});
