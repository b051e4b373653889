import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { AGENT_PRESETS } from '@openshell/policy-schema';
import { makeCliEnv } from './helpers/cli-env.js';
import { startFakeGateway, type FakeGateway } from './helpers/fake-gateway.js';
import { makeTestCerts } from './helpers/test-certs.js';
import { runCli } from './run-cli.js';

// Every test spawns the real CLI (node + oclif); on a loaded 2-core machine that is slow.
vi.setConfig({ testTimeout: 90_000 });

let gateway: FakeGateway;
let env: Record<string, string | undefined>;
let work: string;

beforeAll(async () => {
  const certs = await makeTestCerts(await mkdtemp(join(tmpdir(), 'openshell-certs-')));
  gateway = await startFakeGateway({ certs });
});
afterAll(async () => {
  await gateway.close();
});
beforeEach(async () => {
  for (const name of [...gateway.sandboxes.keys()]) gateway.sandboxes.delete(name);
  gateway.calls.length = 0;
  const made = await makeCliEnv();
  env = made.env;
  work = await mkdtemp(join(tmpdir(), 'openshell-work-'));
  await gateway.writeConfig(made.configDir);
});

/** The CreateSandbox request the fake gateway recorded for `name`. */
function createRequestOf(name: string): Record<string, unknown> {
  const sandbox = gateway.sandboxes.get(name) as unknown as
    { request?: Record<string, unknown> } | undefined;
  if (sandbox?.request === undefined) throw new Error(`no CreateSandbox recorded for ${name}`);
  return sandbox.request;
}

const PRESET_LINE =
  /Using the built-in (\w+) policy \(see `openshell policy get (\S+) --full`\); pass --policy FILE to use your own\./;

describe('sandbox create: agent presets', () => {
  test.for([
    ['claude', ['claude', '-p', 'hi']],
    ['codex', ['/usr/local/bin/codex', 'exec', 'hi']],
    ['opencode', ['opencode', 'run', 'hi']],
    ['copilot', ['copilot', '-p', 'hi']],
  ] as const)(
    '-- %s sends its preset; stdout carries only the command output',
    async ([agent, argv]) => {
      const r = await runCli(['sandbox', 'create', '--name', 'agent', '--', ...argv], { env });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`ran: ${argv.join(' ')}\n`);
      expect(createRequestOf('agent')).toMatchObject({
        policyYaml: AGENT_PRESETS[agent].yaml,
        policyFileName: `preset:${agent}`,
      });
      // stderr is a pipe here and -v was not given: no preset chatter.
      expect(r.stderr).not.toMatch(PRESET_LINE);
    },
  );

  test('-v says which preset is in force and how to read it, on stderr only', async () => {
    const r = await runCli(
      ['sandbox', 'create', '-v', '--name', 'loud', '--', 'claude', '-p', 'hi'],
      {
        env,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(PRESET_LINE);
    expect(PRESET_LINE.exec(r.stderr)?.slice(1, 3)).toEqual(['claude', 'loud']);
    expect(r.stdout).not.toMatch(PRESET_LINE);
    expect(createRequestOf('loud')).toMatchObject({ policyFileName: 'preset:claude' });
  });

  test('--policy FILE wins over the preset', async () => {
    const file = join(work, 'mine.yaml');
    const text = 'version: 1\nnetwork_policies: {}\n';
    await writeFile(file, text);
    const r = await runCli(
      ['sandbox', 'create', '-v', '--name', 'own', '--policy', file, '--', 'claude', '-p', 'hi'],
      { env },
    );
    expect(r.code).toBe(0);
    expect(createRequestOf('own')).toMatchObject({ policyYaml: text, policyFileName: file });
    expect(r.stderr).not.toMatch(PRESET_LINE);
  });

  test.for([
    ['--no-preset', ['--no-preset', '--', 'claude', '-p', 'hi']],
    ['an unknown command', ['--', 'bash', '-c', 'claude -p hi']],
    ['a provider-only command (gh)', ['--', 'gh', 'pr', 'list']],
    ['no command', []],
  ] as const)('%s: no policy is sent (the gateway default denies all)', async ([, args]) => {
    const r = await runCli(['sandbox', 'create', '-v', '--name', 'plain', ...args], { env });
    expect(r.code).toBe(0);
    const request = createRequestOf('plain');
    expect(request.policyYaml ?? '').toBe('');
    expect(request.policyFileName ?? '').toBe('');
    expect(r.stderr).not.toMatch(PRESET_LINE);
  });
});
