import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { run } from './helpers/clients.js';
import { startHarness, type Harness } from './helpers/proxy-harness.js';
import {
  createTestCertificate,
  startHttpsUpstream,
  type Upstream,
} from './helpers/upstream-servers.js';

// Python's standard library as a real client (issue #4 lists "Python if present"): urllib
// sends CONNECT through the proxy from https_proxy and verifies TLS itself. Python is
// optional on a host, so the suite says why it did not run rather than fail; on the
// development machine it is installed and these tests run.

/** The interpreter's real binary (what /proc/<pid>/exe shows), or null without python3. */
function findPython(): string | null {
  const probe = spawnSync(
    'python3',
    ['-c', 'import os, sys, urllib.request; print(os.path.realpath(sys.executable))'],
    { encoding: 'utf8' },
  );
  return probe.status === 0 ? probe.stdout.trim() : null;
}

const PYTHON = findPython();
if (PYTHON === null)
  console.warn('python-client tests not run: python3 with urllib is not installed on this host');

// Fetches argv[1] through $https_proxy and prints "<status>\n<body>"; an HTTP error status
// (from the proxy's CONNECT reply or from the server) is printed the same way.
const CLIENT = `
import ssl, sys, urllib.error, urllib.request
context = ssl.create_default_context(cafile=sys.argv[2])
method = sys.argv[3] if len(sys.argv) > 3 else "GET"
try:
    with urllib.request.urlopen(urllib.request.Request(sys.argv[1], method=method), context=context, timeout=15) as r:
        print(r.status); print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); print(e.read().decode())
except urllib.error.URLError as e:
    print(0); print(e.reason)
`;

const policy = (python: string): string => `
version: 1
network_policies:
  web:
    name: python-web
    endpoints:
      - { host: example.com, port: 443 }
      - host: api.example.com
        port: 443
        protocol: rest
        rules:
          - allow: { method: GET, path: "/public/**" }
    binaries:
      - path: ${python}
`;

describe.runIf(PYTHON !== null)('Python urllib through the proxy', () => {
  const python = PYTHON ?? '';
  let dir: string;
  let upstreamCa: string;
  let copy: string;
  let upstream: Upstream;
  let harness: Harness;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'proxy-python-'));
    const cert = await createTestCertificate(['example.com', 'api.example.com']);
    upstreamCa = join(dir, 'upstream.pem');
    writeFileSync(upstreamCa, cert.certPem);
    writeFileSync(join(dir, 'client.py'), CLIENT);
    copy = join(dir, 'python-copy');
    copyFileSync(python, copy);
    upstream = await startHttpsUpstream(cert);
    harness = await startHarness({
      policy: policy(python),
      options: {
        upstreamCaPem: cert.certPem,
        resolveOverrides: [
          `example.com:443=127.0.0.1:${upstream.port}`,
          `api.example.com:443=127.0.0.1:${upstream.port}`,
        ],
      },
    });
  });

  afterAll(async () => {
    await harness.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the client with `bin` (python or its copy); returns the status it printed and the body. */
  async function fetchWith(
    bin: string,
    url: string,
    ca: string,
    method = 'GET',
  ): Promise<{ status: number; body: string }> {
    const r = await run(bin, [join(dir, 'client.py'), url, ca, method], {
      https_proxy: harness.url,
      // Python's default no_proxy handling must not bypass the proxy for these names.
      no_proxy: '',
    });
    expect(r.stderr).toBe('');
    const [status = '', ...body] = r.stdout.split('\n');
    return { status: Number(status), body: body.join('\n').trim() };
  }

  test('an allowed CONNECT reaches the upstream (opaque relay, upstream certificate verified)', async () => {
    const r = await fetchWith(python, 'https://example.com/hello', upstreamCa);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ method: 'GET', url: '/hello' });
    expect(harness.events.findLast((e) => e.host === 'example.com')).toMatchObject({
      action: 'allow',
      binary: python,
    });
  });

  test('a host no policy names is refused at CONNECT with 403', async () => {
    const r = await fetchWith(python, 'https://evil.example.org/', upstreamCa);
    // urllib reports a refused CONNECT as an OSError "Tunnel connection failed: 403 …".
    expect(r.status).toBe(0);
    expect(r.body).toContain('Tunnel connection failed: 403');
    expect(harness.events.findLast((e) => e.host === 'evil.example.org')).toMatchObject({
      action: 'deny',
      outcome: 'policy_denied',
      binary: python,
    });
  });

  test('a byte-identical copy of python at another path is refused; the listed path is allowed', async () => {
    const denied = await fetchWith(copy, 'https://example.com/copy', upstreamCa);
    expect(denied.status).toBe(0);
    expect(denied.body).toContain('Tunnel connection failed: 403');
    expect(harness.events.findLast((e) => e.binary === copy)).toMatchObject({ action: 'deny' });
    const allowed = await fetchWith(python, 'https://example.com/copy', upstreamCa);
    expect(allowed.status).toBe(200);
  });

  test.for([
    ['GET', '/public/readme', 200],
    ['POST', '/public/readme', 403],
    ['GET', '/private/key', 403],
  ] as const)(
    'TLS terminated with the proxy CA, each request decided: %s %s → %i',
    async ([method, path, status]) => {
      const before = upstream.seen.length;
      const r = await fetchWith(
        python,
        `https://api.example.com${path}`,
        harness.proxy.caBundlePath,
        method,
      );
      expect(r.status).toBe(status);
      if (status === 200) {
        expect(JSON.parse(r.body)).toMatchObject({ method, url: path });
      } else {
        expect(JSON.parse(r.body)).toMatchObject({ error: 'policy_denied', method, path });
        expect(upstream.seen.length).toBe(before);
      }
    },
  );
});
