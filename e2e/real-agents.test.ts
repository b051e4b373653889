// The real Claude Code and Codex CLIs (installed by scripts/setup.sh --for-tests) inside real sandboxes,
// started by the built `openshell` binary, against fake model APIs on loopback. The proxy
// reaches the fakes through its resolve overrides (api.anthropic.com:443, api.openai.com:443 →
// 127.0.0.1:port) and trusts their test CA; the sandbox itself is untouched: it trusts the
// proxy's CA through the variables the agent sets (NODE_EXTRA_CA_CERTS / SSL_CERT_FILE) and
// finds the proxy through HTTPS_PROXY, exactly as on a user's machine. The model's replies are
// scripted, so what the agent does (write a file, run curl) is fixed and what reaches the
// "API" can be checked: the real key arrives although the sandbox only ever held a placeholder.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, realpath, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  FAKE_ROOT_BODY,
  findToolResults,
  readToolResultText,
  scriptToolCalls,
  startFakeModelApi,
  type FakeModelApi,
  type MessagesRequest,
} from './helpers/fake-model-api.js';
import {
  findFunctionOutputs,
  readFunctionOutputText,
  scriptFunctionCalls,
  type ResponsesRequest,
} from './helpers/fake-openai-responses.js';
import { CLI, freePort, isolatedEnv, run, type CliResult } from './helpers/isolated-gateway.js';
import { makeTestTls } from './helpers/test-tls.js';

const NAMES = {
  prefix: 'era',
  serviceAddress: '10.239.34.1',
  pool: '10.239.35.0/24',
  uidBase: 239_350,
};
// Shaped like real keys; random so they cannot be found anywhere by coincidence.
const ANTHROPIC_KEY = `sk-ant-api03-e2e-${randomBytes(24).toString('hex')}`;
const OPENAI_KEY = `sk-proj-e2e-${randomBytes(24).toString('hex')}`;
const HELLO = 'print("Hello, world!")\n';
// Telemetry and the auto-updater would only add denied requests to the log.
const CLAUDE_ENV = ['CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1', 'DISABLE_AUTOUPDATER=1'];
// Codex's built-in OpenAI provider first tries the Responses API over a WebSocket (six
// attempts, ~15 s, before falling back to HTTPS) and, in `codex exec`, takes its key only from
// CODEX_API_KEY or a login. A provider defined here speaks HTTPS streaming at once and reads
// OPENAI_API_KEY — the variable the `codex` provider type carries. A gpt-5 model id gets the
// plain `exec_command` function tool (the default model gets a JavaScript "code mode" tool).
const CODEX_ARGS = [
  ...['exec', '-m', 'gpt-5.1-codex', '--skip-git-repo-check'],
  '--dangerously-bypass-approvals-and-sandbox',
  ...['-c', 'model_provider=oai', '-c'],
  'model_providers.oai={name="OpenAI",base_url="https://api.openai.com/v1",env_key="OPENAI_API_KEY",wire_api="responses"}',
];
/** The PATH of every sandboxed process (sandbox-agent's default), where agents are looked up. */
const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// bin/codex.js only launches the platform package's native binary, which makes the requests.
const CODEX_NATIVE = /^\/usr\/.*\/node_modules\/@openai\/codex[^/]*\/.*vendor\/[^/]+\/bin\/codex$/;

let dir: string;
/** The directory the user runs `openshell` in: the host side of "the agent's project". */
let project: string;
let env: NodeJS.ProcessEnv;
let fake: FakeModelApi;
/** Where each agent resolves to in the sandbox, or why it cannot run (see requireAgent). */
const agents = new Map<string, Promise<string>>();

/**
 * Runs the built `openshell` with stdin at EOF, as `</dev/null` in a script would: a piped
 * stdin that never ends makes `codex exec` wait for more prompt ("Reading additional input
 * from stdin..."), since the CLI forwards its stdin to the sandboxed command.
 */
function openshell(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...env, ...extraEnv }, cwd: project, timeout: 100_000, maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

/** Where `command` resolves to with the sandbox's PATH; rejects when it is missing or broken. */
async function findAgent(command: string, npmPackage: string): Promise<string> {
  const found = await run('sh', ['-c', `command -v ${command} && ${command} --version`], {
    env: { PATH: SANDBOX_PATH },
  }).catch((err: unknown) => {
    throw new Error(
      `the real-agent e2e test needs ${npmPackage} installed globally (\`${command}\` under /usr); ` +
        `run bash scripts/setup.sh --for-tests as root — it installs the pinned version. (${String(err)})`,
    );
  });
  return realpath(found.stdout.split('\n')[0] ?? '');
}

/**
 * The installed agent's path, or the test FAILS (never skips): CI's set-up installs the agents,
 * so a missing one (or npm's stub after a skipped postinstall) is a broken set-up. Checked in
 * each test rather than in beforeAll, which vitest would report as skipped tests.
 */
function requireAgent(command: string): Promise<string> {
  const found = agents.get(command);
  if (found === undefined) throw new Error(`no agent lookup for ${command}`);
  return found;
}

/** `agent ...args` as the first session of a new sandbox `name`, with `provider` attached. */
function runAgentInNewSandbox(
  name: string,
  provider: string,
  argv: readonly string[],
  envPairs: readonly string[] = [],
) {
  return openshell([
    ...['sandbox', 'create', '--name', name, '--provider', provider, '--no-auto-providers'],
    ...envPairs.flatMap((pair) => ['--env', pair]),
    '--',
    ...argv,
  ]);
}

/** The bodies of the `path` POSTs recorded since `from`, parsed. */
function postsSince<T>(from: number, path: string): T[] {
  return fake.requests
    .slice(from)
    .filter((r) => r.method === 'POST' && r.path.split('?')[0] === path)
    .map((r) => JSON.parse(r.body) as T);
}

interface DecisionEntry {
  readonly action: string;
  readonly binary: string;
  readonly ancestors: readonly string[];
  readonly host: string;
  readonly method: string | null;
  readonly path: string | null;
  readonly policy: string | null;
}

async function readDecisions(sandbox: string): Promise<DecisionEntry[]> {
  const logs = await openshell(['logs', sandbox, '--source', 'proxy', '-o', 'json']);
  expect(logs.code, logs.stderr).toBe(0);
  return JSON.parse(logs.stdout) as DecisionEntry[];
}

/** Every file named `name` under `root`, as paths relative to it. */
async function findFiles(root: string, name: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name === name)
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/**
 * `file` is in sandbox `name`'s /sandbox, and on the host only as a sandbox workspace in the
 * gateway's state dir: not in the directory the user ran openshell in, not at a host /sandbox.
 */
async function expectOnlyInSandbox(name: string, file: string, content: string): Promise<void> {
  const inside = await openshell(['sandbox', 'exec', '-n', name, '--', 'cat', `/sandbox/${file}`]);
  expect(inside.code, inside.stderr).toBe(0);
  expect(inside.stdout).toBe(content);
  expect(await findFiles(project, file)).toEqual([]);
  const copies = await findFiles(dir, file);
  expect(copies.length).toBeGreaterThanOrEqual(1);
  expect(copies.filter((path) => !path.startsWith('state/'))).toEqual([]);
  await expect(run('test', ['-e', `/sandbox/${file}`])).rejects.toThrow();
}

/** The sandbox's environment holds `variable` only as the provider placeholder. */
async function expectPlaceholderOnly(name: string, variable: string, real: string) {
  const sandboxEnv = await openshell(['sandbox', 'exec', '-n', name, '--', 'env']);
  expect(sandboxEnv.code, sandboxEnv.stderr).toBe(0);
  expect(sandboxEnv.stdout).toContain(`${variable}=openshell:resolve:env:${variable}\n`);
  expect(sandboxEnv.stdout).not.toContain(real);
}

beforeAll(async () => {
  for (const [command, npmPackage] of [
    ['claude', '@anthropic-ai/claude-code'],
    ['codex', '@openai/codex'],
  ] as const) {
    const found = findAgent(command, npmPackage);
    found.catch(() => undefined); // reported by requireAgent in the tests that need it
    agents.set(command, found);
  }
  dir = await mkdtemp('/var/tmp/openshell-e2e-agents-');
  project = join(dir, 'project');
  await mkdir(project);
  const tls = await makeTestTls(dir, ['api.anthropic.com', 'api.openai.com']);
  fake = await startFakeModelApi(tls);
  const resolves = ['api.anthropic.com', 'api.openai.com'].map(
    (host) => `${host}:443=127.0.0.1:${String(fake.port)}`,
  );
  env = await isolatedEnv(dir, NAMES, {
    NO_COLOR: '1',
    OPENSHELL_PROXY_RESOLVE: resolves.join(','),
    OPENSHELL_PROXY_UPSTREAM_CA: tls.caFile,
  });
  const [port, httpPort] = [await freePort(), await freePort()];
  const started = await openshell([
    ...['gateway', 'start', '--port', String(port), '--http-port', String(httpPort)],
    ...resolves.flatMap((resolve) => ['--resolve', resolve]),
    ...['--upstream-ca', tls.caFile],
  ]);
  expect(started.code, started.stderr).toBe(0);
  // `--credential KEY` reads the value from the environment, keeping it off the command line.
  for (const [name, type, variable, value] of [
    ['anthropic', 'anthropic', 'ANTHROPIC_API_KEY', ANTHROPIC_KEY],
    ['codex', 'codex', 'OPENAI_API_KEY', OPENAI_KEY],
  ] as const) {
    const created = await openshell(
      ['provider', 'create', '--name', name, '--type', type, '--credential', variable],
      { [variable]: value },
    );
    expect(created.code, created.stderr).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  if (env !== undefined) {
    await openshell(['sandbox', 'delete', '--all']);
    await openshell(['gateway', 'stop']);
  }
  await fake?.close();
  await run('ip', ['addr', 'del', `${NAMES.serviceAddress}/32`, 'dev', 'lo']).catch(
    () => undefined,
  );
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}, 120_000);

test('Claude Code writes hello_world.py inside the sandbox, authenticated by a key it never sees', async () => {
  const claudeBinary = await requireAgent('claude');
  fake.script = scriptToolCalls(
    [{ name: 'Write', input: { file_path: '/sandbox/hello_world.py', content: HELLO } }],
    'Created hello_world.py.',
  );
  const from = fake.requests.length;
  const result = await runAgentInNewSandbox(
    'claude-hello',
    'anthropic',
    ['claude', '-p', 'Create hello_world.py', '--dangerously-skip-permissions'],
    CLAUDE_ENV,
  );
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain('Created hello_world.py.');
  await expectOnlyInSandbox('claude-hello', 'hello_world.py', HELLO);

  // The agent ran the scripted turn: its last request carries the Write tool's result.
  const turns = postsSince<MessagesRequest>(from, '/v1/messages').filter((body) =>
    (body.tools ?? []).some((tool) => tool.name === 'Write'),
  );
  expect(turns.length).toBeGreaterThanOrEqual(2);
  expect(findToolResults(turns.at(-1) ?? {})).toHaveLength(1);

  await expectPlaceholderOnly('claude-hello', 'ANTHROPIC_API_KEY', ANTHROPIC_KEY);
  const seen = fake.requests.slice(from);
  expect(seen.length).toBeGreaterThanOrEqual(turns.length);
  for (const request of seen) expect(request.headers['x-api-key']).toBe(ANTHROPIC_KEY);
  expect(JSON.stringify(seen)).not.toContain('openshell:resolve');

  expect(await readDecisions('claude-hello')).toContainEqual(
    expect.objectContaining({
      action: 'allow',
      binary: claudeBinary,
      host: 'api.anthropic.com',
      method: 'POST',
      path: '/v1/messages',
      policy: 'claude_code',
    }),
  );
}, 120_000);

test("Claude Code's Bash tool reaches the API host but not a host the policy does not list", async () => {
  const claudeBinary = await requireAgent('claude');
  const curl = (url: string) => ({
    name: 'Bash',
    input: { command: `curl -sS --max-time 20 ${url}`, description: `Fetch ${url}` },
  });
  fake.script = scriptToolCalls(
    [curl('https://unlisted.example.com/'), curl('https://api.anthropic.com/')],
    'Done fetching.',
  );
  const from = fake.requests.length;
  const result = await runAgentInNewSandbox(
    'claude-fetch',
    'anthropic',
    ['claude', '-p', 'Fetch two URLs with curl.', '--dangerously-skip-permissions'],
    CLAUDE_ENV,
  );
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain('Done fetching.');

  const last = postsSince<MessagesRequest>(from, '/v1/messages').at(-1) ?? {};
  const results = findToolResults(last).map(readToolResultText);
  expect(results).toHaveLength(2);
  // curl ≥ 7.84 words it "CONNECT tunnel failed, response 403"; older ones differently.
  expect(results[0]).toMatch(/CONNECT tunnel failed, response 403|Received HTTP code 403/);
  // Positive control: the same tool in the same sandbox gets through to the listed host.
  expect(results[1]).toContain(FAKE_ROOT_BODY.trim());

  const byCurl = (await readDecisions('claude-fetch')).filter((d) => d.binary.endsWith('/curl'));
  expect(byCurl).toContainEqual(
    expect.objectContaining({ action: 'deny', host: 'unlisted.example.com' }),
  );
  // curl may reach the API host only because Claude Code started it (ancestor match).
  expect(byCurl).toContainEqual(
    expect.objectContaining({
      action: 'allow',
      host: 'api.anthropic.com',
      ancestors: expect.arrayContaining([claudeBinary]) as unknown,
    }),
  );
}, 120_000);

test('Codex writes a file inside the sandbox with a key only the proxy holds', async () => {
  await requireAgent('codex');
  fake.responsesScript = scriptFunctionCalls(
    [
      {
        name: 'exec_command',
        arguments: { cmd: `printf '%s\\n' '${HELLO.trim()}' > /sandbox/hello_codex.py` },
      },
    ],
    'Created hello_codex.py.',
  );
  const from = fake.requests.length;
  const result = await runAgentInNewSandbox('codex-hello', 'codex', [
    'codex',
    ...CODEX_ARGS,
    'Create hello_codex.py',
  ]);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain('Created hello_codex.py.');
  await expectOnlyInSandbox('codex-hello', 'hello_codex.py', HELLO);

  const turns = postsSince<ResponsesRequest>(from, '/v1/responses');
  expect(turns.length).toBeGreaterThanOrEqual(2);
  expect(readFunctionOutputText(findFunctionOutputs(turns.at(-1) ?? {})[0] ?? {})).toMatch(
    /exited with code 0/,
  );

  await expectPlaceholderOnly('codex-hello', 'OPENAI_API_KEY', OPENAI_KEY);
  const seen = fake.requests.slice(from);
  for (const request of seen) expect(request.headers['authorization']).toBe(`Bearer ${OPENAI_KEY}`);
  expect(JSON.stringify(seen)).not.toContain('openshell:resolve');

  expect(await readDecisions('codex-hello')).toContainEqual(
    expect.objectContaining({
      action: 'allow',
      binary: expect.stringMatching(CODEX_NATIVE) as unknown,
      host: 'api.openai.com',
      method: 'POST',
      path: '/v1/responses',
      policy: 'codex',
    }),
  );
}, 120_000);

test("Codex's exec_command reaches the API host but not a host the policy does not list", async () => {
  await requireAgent('codex');
  const curl = (url: string) => ({
    name: 'exec_command',
    arguments: { cmd: `curl -sS --max-time 20 ${url}` },
  });
  fake.responsesScript = scriptFunctionCalls(
    [curl('https://unlisted.example.com/'), curl('https://api.openai.com/')],
    'Done fetching.',
  );
  const from = fake.requests.length;
  const result = await runAgentInNewSandbox('codex-fetch', 'codex', [
    'codex',
    ...CODEX_ARGS,
    'Fetch two URLs with curl.',
  ]);
  expect(result.code, result.stderr).toBe(0);

  const last = postsSince<ResponsesRequest>(from, '/v1/responses').at(-1) ?? {};
  const outputs = findFunctionOutputs(last).map(readFunctionOutputText);
  expect(outputs).toHaveLength(2);
  expect(outputs[0]).toMatch(/CONNECT tunnel failed, response 403|Received HTTP code 403/);
  expect(outputs[1]).toContain(FAKE_ROOT_BODY.trim());

  const byCurl = (await readDecisions('codex-fetch')).filter((d) => d.binary.endsWith('/curl'));
  expect(byCurl).toContainEqual(
    expect.objectContaining({ action: 'deny', host: 'unlisted.example.com' }),
  );
  expect(byCurl).toContainEqual(
    expect.objectContaining({
      action: 'allow',
      host: 'api.openai.com',
      ancestors: expect.arrayContaining([expect.stringMatching(CODEX_NATIVE)]) as unknown,
    }),
  );
}, 120_000);
