import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { curl, run } from './helpers/clients.js';
import { startFakeModelServer } from './helpers/fake-model-servers.js';
import {
  createTestCertificate,
  startHttpsUpstream,
  type Upstream,
} from './helpers/upstream-servers.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');

const policy = (access: string): string => `version: 1
network_policies:
  github:
    name: github-api
    endpoints:
      - { host: api.github.com, port: 443, protocol: rest, access: ${access} }
    binaries:
      - path: /usr/bin/curl
`;

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly caBundlePath: string;
  stderr(): string;
}

let dir: string;
let upstream: Upstream;
let upstreamCa: string;
let policyFile: string;

function startBin(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  if (!existsSync(BIN))
    throw new Error(`${BIN} is missing: run "pnpm --filter @openshell/proxy build" first`);
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      const line = JSON.parse(out.slice(0, out.indexOf('\n'))) as {
        address: string;
        caBundlePath: string;
      };
      resolve({
        child,
        url: `http://${line.address}`,
        caBundlePath: line.caBundlePath,
        stderr: () => stderr,
      });
    });
    child.once('exit', (code) => reject(new Error(`openshell-proxy exited ${code}: ${stderr}`)));
  });
}

function stop(r: Running): Promise<number | null> {
  return new Promise((resolve) => {
    r.child.once('exit', (code) => resolve(code));
    r.child.kill('SIGTERM');
  });
}

/** Polls `probe` until it returns `want` (the watcher applies changes asynchronously). */
async function eventually(probe: () => Promise<number>, want: number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 50 && last !== want; i++) {
    last = await probe();
    if (last !== want) await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'proxy-bin-'));
  const cert = await createTestCertificate(['api.github.com']);
  upstreamCa = join(dir, 'upstream-ca.pem');
  writeFileSync(upstreamCa, cert.certPem);
  upstream = await startHttpsUpstream(cert);
  policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, policy('read-only'));
});

afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('openshell-proxy (standalone bin)', () => {
  test('enforces a watched policy file, keeps the last good one on a bad edit, and persists across restart', async () => {
    const stateDir = join(dir, 'state');
    const common = [
      '--listen',
      '127.0.0.1:0',
      '--state-dir',
      stateDir,
      '--resolve',
      `api.github.com:443=127.0.0.1:${upstream.port}`,
      '--upstream-ca',
      upstreamCa,
    ];
    const first = await startBin([
      ...common,
      '--policy',
      policyFile,
      '--log',
      join(dir, 'log.jsonl'),
    ]);
    const post = (r: Running): Promise<number> =>
      curl(r.url, ['-X', 'POST', '-d', '{}', 'https://api.github.com/repos/o/r/issues'], {
        caFile: r.caBundlePath,
      }).then((x) => x.code);

    expect(await post(first)).toBe(403);
    writeFileSync(policyFile, policy('read-write'));
    expect(await eventually(() => post(first), 200)).toBe(200);

    writeFileSync(
      policyFile,
      'version: 1\nnetwork_policies:\n  github:\n    endpoints: [{ host: "*.com", port: 443 }]\n',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(first.stderr()).toMatch(/policy\.yaml:\d+:\d+ .*\*\.com/);
    expect(await post(first)).toBe(200);

    const log = readFileSync(join(dir, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string });
    expect(log.some((e) => e.action === 'deny') && log.some((e) => e.action === 'allow')).toBe(
      true,
    );
    expect(await stop(first)).toBe(0);

    expect(statSync(join(stateDir, 'tls', 'ca-key.pem')).mode & 0o777).toBe(0o600);
    const second = await startBin(common);
    expect(await post(second)).toBe(200);
    expect(await stop(second)).toBe(0);
  }, 30_000);

  test.for([
    [['--resolve', 'no-equals-sign'], 2, '--resolve'],
    [['--listen', 'nonsense'], 2, '--listen'],
    [['--bogus'], 2, 'Unknown option'],
    [['--upstream-ca', '/nonexistent/ca.pem'], 2, '/nonexistent/ca.pem'],
    [['--upstream-proxy', 'ftp://10.0.0.1:21'], 2, '--upstream-proxy'],
    [['--inference-routes', '/nonexistent/routes.json'], 2, '/nonexistent/routes.json'],
  ] as const)('%j exits %i naming the problem', async ([args, code, fragment]) => {
    const r = await run(process.execPath, [
      BIN,
      '--state-dir',
      join(dir, 'state-bad'),
      '--listen',
      '127.0.0.1:0',
      ...args,
    ]);
    expect(r.exitCode).toBe(code);
    expect(r.stderr).toContain(fragment);
  });

  test('--inference-routes: routes from a file, the key from the environment (apiKeyEnv)', async () => {
    const model = await startFakeModelServer('bin-local', 'openai');
    const routesFile = join(dir, 'routes.json');
    writeFileSync(
      routesFile,
      JSON.stringify({
        routes: [
          {
            name: 'local',
            kind: 'local',
            api: 'openai',
            baseUrl: `http://127.0.0.1:${model.port}/v1`,
            model: 'llama-bin',
            apiKeyEnv: 'TEST_LOCAL_KEY',
          },
        ],
      }),
    );
    const inferencePolicyFile = join(dir, 'inference.yaml');
    writeFileSync(
      inferencePolicyFile,
      'version: 1\ninference:\n  default_route: local\n  routes:\n    local: { kind: local }\n',
    );
    const args = ['--listen', '127.0.0.1:0', '--state-dir', join(dir, 'state-inf')];
    const running = await startBin(
      [...args, '--policy', inferencePolicyFile, '--inference-routes', routesFile],
      { TEST_LOCAL_KEY: 'key-from-env' },
    );
    try {
      const r = await curl(
        running.url,
        ['-d', '{"model":"x","messages":[]}', 'https://inference.local/v1/chat/completions'],
        { caFile: running.caBundlePath },
      );
      expect(r.code).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ server: 'bin-local', model: 'llama-bin' });
      expect(model.seen.at(-1)?.headers['authorization']).toBe('Bearer key-from-env');
    } finally {
      await stop(running);
      await model.close();
    }
    // The same file without the variable set refuses to start, naming it.
    const missing = await run(process.execPath, [BIN, ...args, '--inference-routes', routesFile]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('TEST_LOCAL_KEY');
  }, 30_000);
});
