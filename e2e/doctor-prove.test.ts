// `openshell doctor --prove` as a user (or a CI job) runs it: the built binary auto-starts
// a gateway of this file's own (addresses, ports, uids, state), creates its throwaway
// sandbox, runs the escape attempts and removes everything. Three policies: the default
// one (every attempt blocked, at the layer this runtime is built to stop it with), a strict
// policy with rules deep enough that the SSRF, L7 and credential layers get their turn, and
// a deliberately weak one whose hole the prover must report as NOT BLOCKED with exit 1.
// `example.com` and `plain.example.com` are loopback servers reached through the proxy's
// resolve overrides; nothing leaves the host.
import { spawn } from 'node:child_process';
import { readdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CLI,
  freePort,
  hostObjects,
  isolatedEnv,
  run,
  runOpenshell,
  type CliResult,
} from './helpers/isolated-gateway.js';

const NAMES = {
  prefix: 'edp',
  serviceAddress: '10.239.36.1',
  pool: '10.239.37.0/24',
  uidBase: 239_370,
};

const NEXT_UID_BASE = 239_390;

interface Attempt {
  id: string;
  category: string;
  attempt: string;
  result: 'blocked' | 'not_blocked' | 'error' | 'skipped';
  layer: string | null;
  detail: string;
}
interface ProveDocument {
  sandbox: string;
  policy: string;
  attempts: Attempt[];
  summary: {
    total: number;
    blocked: number;
    notBlocked: number;
    errors: number;
    skipped: number;
    durationMs: number;
  };
}

let dir: string;
let env: NodeJS.ProcessEnv;
let site: HttpsServer;
let plain: HttpServer;
const received: string[] = [];

function openshell(args: readonly string[]): Promise<CliResult> {
  return runOpenshell(env, dir, args, 120_000);
}

function parseProve(result: CliResult): ProveDocument {
  try {
    return JSON.parse(result.stdout) as ProveDocument;
  } catch {
    throw new Error(
      `doctor --prove printed no JSON (exit ${String(result.code)}):\n${result.stderr}`,
    );
  }
}

const byId = (doc: ProveDocument): Map<string, Attempt> =>
  new Map(doc.attempts.map((a) => [a.id, a]));

async function listen(server: HttpServer | HttpsServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A throwaway CA and an example.com certificate for the loopback "internet". */
async function makeSiteTls(): Promise<{ key: Buffer; cert: Buffer; caFile: string }> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const file = (name: string): string => join(dir, name);
  await run(
    'openssl',
    ['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=edp-ca'].concat([
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
    ]),
  );
  await run(
    'openssl',
    ['req', ...ec, '-subj', '/CN=example.com'].concat([
      '-keyout',
      file('site.key'),
      '-out',
      file('site.csr'),
    ]),
  );
  await writeFile(file('site.ext'), 'subjectAltName=DNS:example.com\n');
  await run(
    'openssl',
    ['x509', '-req', '-in', file('site.csr'), '-CA', file('ca.pem')]
      .concat(['-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2'])
      .concat(['-extfile', file('site.ext'), '-out', file('site.pem')]),
  );
  return {
    key: await readFile(file('site.key')),
    cert: await readFile(file('site.pem')),
    caFile: file('ca.pem'),
  };
}

beforeAll(async () => {
  dir = await mkdtemp('/var/tmp/openshell-e2e-prove-');
  const tls = await makeSiteTls();
  const record = (req: { url?: string | undefined; method?: string | undefined }): void => {
    received.push(`${req.method ?? ''} ${req.url ?? ''}`);
  };
  site = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    record(req);
    res.end('ok');
  });
  plain = createHttpServer((req, res) => {
    record(req);
    res.end('ok');
  });
  const [sitePort, plainPort] = [await listen(site), await listen(plain)];
  env = await isolatedEnv(dir, NAMES, {
    NO_COLOR: '1',
    OPENSHELL_GATEWAY_PORT: String(await freePort()),
    OPENSHELL_GATEWAY_HTTP_PORT: String(await freePort()),
    OPENSHELL_PROXY_RESOLVE: [
      `example.com:443=127.0.0.1:${String(sitePort)}`,
      `plain.example.com:80=127.0.0.1:${String(plainPort)}`,
    ].join(','),
    OPENSHELL_PROXY_UPSTREAM_CA: tls.caFile,
  });
}, 60_000);

afterAll(async () => {
  await openshell(['sandbox', 'delete', '--all']);
  await openshell(['gateway', 'stop']);
  await new Promise((resolve) => site.close(resolve));
  await new Promise((resolve) => plain.close(resolve));
  await run('ip', ['addr', 'del', `${NAMES.serviceAddress}/32`, 'dev', 'lo']).catch(
    () => undefined,
  );
  await rm(dir, { recursive: true, force: true });
}, 120_000);

/** What a run must leave behind: nothing — no sandbox, provider, host marker or host object. */
async function expectNothingLeft(): Promise<void> {
  const sandboxes = await openshell(['sandbox', 'list', '-o', 'json']);
  expect(JSON.parse(sandboxes.stdout), sandboxes.stderr).toEqual([]);
  const providers = await openshell(['provider', 'list', '-o', 'json']);
  expect(providers.stdout, providers.stderr).not.toContain('openshell-prove-');
  expect((await readdir('/tmp')).filter((n) => n.startsWith('openshell-prove-'))).toEqual([]);
  // Only this layout's own uids: NAMES.uidBase + 64 (hostObjects' window) reaches into the
  // next layout's range (239_390, another helper's tests), whose sandboxes may be running.
  const ours = (await hostObjects(NAMES)).filter(
    (line) => !line.startsWith('process ') || Number(line.split(' ')[1]) < NEXT_UID_BASE,
  );
  expect(ours).toEqual([]);
}

// The layer each attempt must be stopped by under the default policy on this runtime.
const DEFAULT_LAYERS: Record<string, string> = {
  'fs-read-shadow': 'uid/capabilities',
  'fs-read-root': 'landlock',
  'fs-write-usr': 'namespaces/mount',
  'fs-write-etc': 'namespaces/mount',
  'fs-host-tmp': 'namespaces/mount',
  'fs-landlock': 'landlock',
  'proc-host-pids': 'namespaces/pid',
  'proc-signal-agent': 'uid/capabilities',
  'proc-ptrace-agent': 'seccomp',
  'proc-setuid': 'no_new_privs',
  'ns-mount': 'seccomp',
  'ns-unshare': 'seccomp',
  'ns-setns': 'uid/capabilities',
  'sock-raw': 'uid/capabilities',
  'sock-packet': 'seccomp',
  'sock-netlink-audit': 'seccomp',
  'net-direct': 'netns+nftables',
  'net-udp-dns': 'netns+nftables',
  'net-ipv6': 'netns+nftables',
  'net-gateway-ports': 'netns+nftables',
  'proxy-l4': 'proxy L4 policy',
  'proxy-ssrf-metadata': 'proxy L4 policy',
  'proxy-ssrf-loopback': 'proxy L4 policy',
  'proxy-ssrf-private': 'proxy L4 policy',
  'proxy-credentials': 'proxy L4 policy',
  'res-core': 'rlimit core',
  'res-fork-bomb': 'cgroup pids',
  'res-memory': 'cgroup memory',
};

describe('the default policy', () => {
  let result: CliResult;
  let doc: ProveDocument;

  beforeAll(async () => {
    // The first command of the file: doctor --prove auto-starts the gateway like any other.
    result = await openshell(['doctor', '--prove', '-o', 'json']);
    doc = parseProve(result);
  }, 180_000);

  test('exits 0 with every attempt blocked and only L7 skipped (no L7 rules)', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(doc.policy).toBe('default');
    expect(doc.summary).toMatchObject({
      total: Object.keys(DEFAULT_LAYERS).length + 1,
      blocked: Object.keys(DEFAULT_LAYERS).length,
      notBlocked: 0,
      errors: 0,
      skipped: 1,
    });
    expect(byId(doc).get('proxy-l7')).toMatchObject({
      result: 'skipped',
      detail: 'no L7 rules in policy',
    });
  });

  test.for(Object.entries(DEFAULT_LAYERS))('%s is blocked by %s', ([id, layer]) => {
    const attempt = byId(doc).get(id);
    expect(attempt, `${id} missing from ${result.stdout}`).toBeDefined();
    expect(attempt, JSON.stringify(attempt)).toMatchObject({ result: 'blocked', layer });
  });

  test('stdout is the JSON document only: progress never reaches it, nor stderr off a TTY', () => {
    expect(result.stdout.trimStart().startsWith('{')).toBe(true);
    expect(result.stderr).toBe('');
  });

  test('leaves no sandbox, provider, host /tmp marker or host object behind', async () => {
    await expectNothingLeft();
  });
});

/**
 * Rules that let each proxy layer past L4 see its attack: an L7 endpoint (the path trick
 * meets its rules), a plain endpoint not bound to the throwaway provider (the placeholder
 * meets the credential check), and a name that resolves to loopback (SSRF).
 */
function strictPolicy(gatewayPort: string): string {
  return `version: 1
network_policies:
  site:
    name: example-api
    endpoints:
      - host: example.com
        port: 443
        protocol: rest
        rules:
          - allow: { method: GET, path: "/repos/**" }
      - host: plain.example.com
        port: 80
    binaries:
      - path: /usr/bin/curl
  loopback_by_name:
    name: loopback-by-name
    endpoints:
      - host: localhost
        port: ${gatewayPort}
    binaries:
      - path: /usr/bin/curl
`;
}

describe('a strict policy with rules: the deeper proxy layers answer', () => {
  let result: CliResult;
  let doc: ProveDocument;

  beforeAll(async () => {
    await writeFile(join(dir, 'strict.yaml'), strictPolicy(env['OPENSHELL_GATEWAY_PORT'] ?? ''));
    received.length = 0;
    result = await openshell(['doctor', '--prove', '--policy', 'strict.yaml', '-o', 'json']);
    doc = parseProve(result);
  }, 180_000);

  test('exits 0 with nothing NOT BLOCKED and no void proof', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(doc.policy).toBe('strict.yaml');
    expect(doc.summary, JSON.stringify(doc.attempts)).toMatchObject({
      notBlocked: 0,
      errors: 0,
      skipped: 0,
    });
  });

  test.for([
    { id: 'proxy-ssrf-loopback', layer: 'proxy SSRF', detail: 'ssrf_denied' },
    {
      id: 'proxy-l7',
      layer: 'proxy L7',
      detail: 'example.com/repos/%2e%2e/%2e%2e/openshell-prove-denied',
    },
    { id: 'proxy-credentials', layer: 'proxy credentials', detail: 'plain.example.com:80' },
  ])('$id is blocked by $layer', ({ id, layer, detail }) => {
    const attempt = byId(doc).get(id);
    expect(attempt, JSON.stringify(attempt)).toMatchObject({ result: 'blocked', layer });
    expect(attempt?.detail).toContain(detail);
  });

  test('the refused requests never reached the loopback servers', () => {
    expect(received).toEqual([]);
  });

  test('leaves nothing behind', async () => {
    await expectNothingLeft();
  });
});

describe('a weak policy: the prover finds the hole', () => {
  let result: CliResult;

  beforeAll(async () => {
    // Allowing curl to the gateway's service address hands the sandbox, through the proxy,
    // the supervisor port that nftables keeps it from dialling directly.
    const supervisor = env['OPENSHELL_SUPERVISOR_PORT'] ?? '';
    await writeFile(
      join(dir, 'weak.yaml'),
      `version: 1
network_policies:
  internal:
    name: internal-service
    endpoints:
      - host: ${NAMES.serviceAddress}
        port: ${supervisor}
        allowed_ips: [${NAMES.serviceAddress}/32]
    binaries:
      - path: /usr/bin/curl
`,
    );
    result = await openshell(['doctor', '--prove', '--policy', 'weak.yaml']);
  }, 180_000);

  test('exits 1 and prints NOT BLOCKED on the line of the private-address attempt', () => {
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^RESULT\s+ATTEMPT\s+LAYER\s+DETAIL$/);
    const hole = lines.filter((l) => l.startsWith('NOT BLOCKED'));
    expect(hole, result.stdout).toHaveLength(1);
    expect(hole[0]).toMatch(/private address .*\(proxy SSRF\)\s+HTTP 502 upstream_failed/);
  });

  test('the other attempts are still blocked, and the summary line counts the hole', () => {
    const rows = result.stdout
      .split('\n')
      .slice(1)
      .filter((l) => /^(blocked|skipped|error) /.test(l));
    expect(rows.filter((l) => l.startsWith('error'))).toEqual([]);
    expect(result.stdout).toMatch(
      /^1 NOT BLOCKED: 29 attempts, 27 blocked, 1 not blocked, 0 errors, 1 skipped \(policy: weak\.yaml, [\d.]+ s\)$/m,
    );
  });

  test('leaves nothing behind', async () => {
    await expectNothingLeft();
  });
});

test('an invalid --policy fails before any sandbox exists (exit 2, file:line:col)', async () => {
  await writeFile(join(dir, 'bad.yaml'), 'version: 1\nnetwork_policies:\n  x:\n    endpoints: 3\n');
  const bad = await openshell(['doctor', '--prove', '--policy', 'bad.yaml']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/bad\.yaml:4:\d+ network_policies\.x\.endpoints/);
  await expectNothingLeft();
});

test('Ctrl-C while the attempts run: exit 130, and the throwaway sandbox and provider are gone', async () => {
  // -v prints plain progress lines without a TTY; SIGINT goes in once the exec has started.
  const child = spawn(process.execPath, [CLI, 'doctor', '--prove', '-v'], { env, cwd: dir });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('Running 29 escape attempts')) resolve();
    });
    child.on('exit', () => reject(new Error(`exited before the attempts ran:\n${stderr}`)));
  });
  child.kill('SIGINT');
  expect(await exited, stderr).toBe(130);
  expect(stderr).toContain('Interrupted; the throwaway sandbox was deleted.');
  await expectNothingLeft();
}, 120_000);
