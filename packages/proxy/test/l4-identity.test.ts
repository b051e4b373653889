import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { curl, openTunnel, run } from './helpers/clients.js';
import { NODE_EXE, startHarness, type Harness } from './helpers/proxy-harness.js';
import {
  createTestCertificate,
  startHttpsUpstream,
  type TestCertificate,
  type Upstream,
} from './helpers/upstream-servers.js';

let cert: TestCertificate;
let upstream: Upstream;
let harness: Harness;
let dir: string;
let certFile: string;
let curlCopy: string;
let launcher: string;

const policy = (binaries: readonly string[]): string => `
version: 1
network_policies:
  web:
    name: web-l4
    endpoints:
      - { host: example.com, port: 443 }
      - { host: down.example.com, port: 443 }
    binaries:
${binaries.map((b) => `      - path: ${b}`).join('\n')}
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'proxy-l4-'));
  cert = await createTestCertificate(['example.com']);
  certFile = join(dir, 'upstream.pem');
  writeFileSync(certFile, cert.certPem);
  curlCopy = join(dir, 'curl-copy');
  copyFileSync('/usr/bin/curl', curlCopy);
  launcher = join(dir, 'launcher');
  copyFileSync('/usr/bin/bash', launcher);
  chmodSync(curlCopy, 0o755);
  chmodSync(launcher, 0o755);
  upstream = await startHttpsUpstream(cert);
  harness = await startHarness({
    policy: policy(['/usr/bin/curl']),
    options: {
      resolveOverrides: [
        `example.com:443=127.0.0.1:${upstream.port}`,
        // Nothing listens on port 1: the dial after an allow fails.
        'down.example.com:443=127.0.0.1:1',
      ],
    },
  });
});

afterAll(async () => {
  await harness.close();
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('L4 decisions at CONNECT', () => {
  test('an allowed host:port is tunnelled to the upstream (opaque relay, upstream certificate)', async () => {
    const r = await curl(harness.url, ['https://example.com/hello'], { caFile: certFile });
    expect(r.code).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ method: 'GET', url: '/hello' });
    const event = harness.events.findLast((e) => e.host === 'example.com');
    expect(event).toMatchObject({
      action: 'allow',
      layer: 'l4',
      method: 'CONNECT',
      binary: '/usr/bin/curl',
      policy: 'web',
      matchedBinary: '/usr/bin/curl',
      sandbox: 'default',
    });
    expect(event?.pid).toBeGreaterThan(1);
  });

  test('an allowed host whose upstream is down → 502, and the allow is still recorded once (after the answer)', async () => {
    const before = harness.events.filter((e) => e.host === 'down.example.com').length;
    const r = await curl(harness.url, ['https://down.example.com/'], { caFile: certFile });
    expect(r.exitCode).toBe(56);
    expect(r.stderr).toContain('502');
    const events = harness.events.filter((e) => e.host === 'down.example.com').slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'allow',
      outcome: 'allowed',
      binary: '/usr/bin/curl',
    });
  });

  test('a host no policy names is refused with 403 and curl reports it', async () => {
    const r = await curl(harness.url, ['https://evil.example.org/'], { caFile: certFile });
    expect(r.exitCode).toBe(56);
    expect(r.stderr).toContain('403');
    expect(harness.events.findLast((e) => e.host === 'evil.example.org')).toMatchObject({
      matchedBinary: null,
      action: 'deny',
      outcome: 'policy_denied',
    });
  });

  test.for([
    [
      'example.com:443',
      403,
      '{"error":"policy_denied","detail":"CONNECT example.com:443 not permitted by policy"}',
    ],
    [
      'example.com:8443',
      403,
      '{"error":"policy_denied","detail":"CONNECT example.com:8443 not permitted by policy"}',
    ],
  ] as const)(
    'the denial body for %s (node is not listed) is exactly the documented JSON',
    async ([authority, status, body]) => {
      const { socket, response } = await openTunnel(harness.port, authority);
      socket.destroy();
      expect(response.status).toBe(status);
      expect(response.headers['content-type']).toBe('application/json');
      expect(response.body).toBe(body);
    },
  );
});

describe('caller identity from /proc', () => {
  test.for([
    ['/usr/bin/curl (listed)', (): string => '/usr/bin/curl', 200],
    ['a byte-identical copy of curl at another path', (): string => curlCopy, 0],
  ] as const)('%s', async ([, bin, code]) => {
    const r = await curl(harness.url, ['https://example.com/who'], {
      bin: bin(),
      caFile: certFile,
    });
    expect(r.code).toBe(code);
    if (code === 0) expect(r.exitCode).toBe(56);
  });

  test('node (the test runner itself) is not listed and is denied; listing it allows it', async () => {
    const denied = await openTunnel(harness.port, 'example.com:443');
    denied.socket.destroy();
    expect(denied.response.status).toBe(403);
    expect(harness.events.findLast((e) => e.binary === NODE_EXE)).toMatchObject({ action: 'deny' });

    await harness.setPolicy(policy(['/usr/bin/curl', NODE_EXE]));
    const allowed = await openTunnel(harness.port, 'example.com:443');
    allowed.socket.destroy();
    expect(allowed.response.status).toBe(200);
    await harness.setPolicy(policy(['/usr/bin/curl']));
  });

  test('an allowed ancestor (a launcher script) admits the curl it runs; the same curl alone is denied', async () => {
    await harness.setPolicy(policy([launcher]));
    const script = `/usr/bin/curl -sS --max-time 10 -x ${harness.url} --cacert ${certFile} -w '\\n%{http_code}' https://example.com/anc; status=$?; exit $status`;
    const viaLauncher = await run(launcher, ['-c', script]);
    expect(viaLauncher.stdout.trim().split('\n').at(-1)).toBe('200');
    const event = harness.events.findLast((e) => e.host === 'example.com' && e.action === 'allow');
    expect(event?.binary).toBe('/usr/bin/curl');
    expect(event?.ancestors[0]).toBe(launcher);

    const alone = await curl(harness.url, ['https://example.com/anc'], { caFile: certFile });
    expect(alone.exitCode).toBe(56);
    await harness.setPolicy(policy(['/usr/bin/curl']));
  });
});
