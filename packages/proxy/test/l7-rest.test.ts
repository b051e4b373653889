import { connect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { curl, openTunnel, readResponse, request, startTls } from './helpers/clients.js';
import { NODE_EXE, startHarness, type Harness } from './helpers/proxy-harness.js';
import {
  createTestCertificate,
  startHttpUpstream,
  startHttpsUpstream,
  type Upstream,
} from './helpers/upstream-servers.js';

const POLICY = `
version: 1
network_policies:
  github:
    name: github-api
    endpoints:
      - host: api.github.com
        port: 443
        protocol: rest
        access: read-only
        deny_rules:
          - { method: GET, path: "/admin/**" }
      - host: audit.example.com
        port: 443
        protocol: rest
        enforcement: audit
        access: read-only
      - host: plain.example.com
        port: 80
        protocol: rest
        rules:
          - allow: { method: GET, path: "/public/**" }
    binaries:
      - path: /usr/bin/curl
      - path: ${NODE_EXE}
`;

let tlsUpstream: Upstream;
let plainUpstream: Upstream;
let harness: Harness;
let caBundle: string;

beforeAll(async () => {
  const cert = await createTestCertificate(['api.github.com', 'audit.example.com']);
  tlsUpstream = await startHttpsUpstream(cert);
  plainUpstream = await startHttpUpstream();
  harness = await startHarness({
    policy: POLICY,
    options: {
      upstreamCaPem: cert.certPem,
      resolveOverrides: [
        `api.github.com:443=127.0.0.1:${tlsUpstream.port}`,
        `audit.example.com:443=127.0.0.1:${tlsUpstream.port}`,
        `plain.example.com:80=127.0.0.1:${plainUpstream.port}`,
      ],
    },
  });
  caBundle = harness.proxy.caBundlePath;
});

afterAll(async () => {
  await harness.close();
  await tlsUpstream.close();
  await plainUpstream.close();
});

/** A TLS connection to api.github.com through the proxy, for several requests in a row. */
async function githubConnection(servername = 'api.github.com'): Promise<TLSSocket> {
  const { socket, response } = await openTunnel(harness.port, 'api.github.com:443');
  expect(response.status).toBe(200);
  if (servername === 'api.github.com') return startTls(socket, servername, harness.proxy.caCertPem);
  return new Promise((resolve, reject) => {
    const tls = tlsConnect(
      { socket, servername, ca: harness.proxy.caCertPem, checkServerIdentity: () => undefined },
      () => resolve(tls),
    );
    tls.once('error', reject);
  });
}

describe('TLS-terminated REST endpoint (read-only)', () => {
  test('curl GET is allowed and reaches the upstream over re-originated, verified TLS', async () => {
    const r = await curl(harness.url, ['https://api.github.com/repos/o/r'], { caFile: caBundle });
    expect(r.code).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({
      method: 'GET',
      url: '/repos/o/r',
      headers: { host: 'api.github.com' },
    });
  });

  test('curl POST is refused with the documented JSON body and X-OpenShell-Policy header', async () => {
    const before = tlsUpstream.seen.length;
    const r = await curl(
      harness.url,
      ['-i', '-X', 'POST', '-d', '{"title":"x"}', 'https://api.github.com/repos/o/r/issues'],
      { caFile: caBundle },
    );
    expect(r.code).toBe(403);
    expect(r.body).toMatch(/^x-openshell-policy: github-api\r$/im);
    const body = r.body.slice(r.body.lastIndexOf('\r\n\r\n') + 4);
    expect(
      body.startsWith(
        '{"error":"policy_denied","policy":"github-api","rule":"POST /repos/o/r/issues","detail":"POST /repos/o/r/issues not permitted by policy","method":"POST","path":"/repos/o/r/issues","host":"api.github.com","port":443,"binary":"/usr/bin/curl","next_steps":[',
      ),
    ).toBe(true);
    expect(JSON.parse(body).next_steps.length).toBeGreaterThan(0);
    expect(tlsUpstream.seen.length).toBe(before);
    expect(harness.events.findLast((e) => e.method === 'POST')).toMatchObject({
      action: 'deny',
      layer: 'l7',
      path: '/repos/o/r/issues',
      binary: '/usr/bin/curl',
    });
  });

  test.for([
    ['/repos/o/r', 200],
    ['/adminx', 200],
    ['/public/../repos', 200],
    ['/admin/users', 403],
    ['/a/../admin/users', 403],
    ['/public/%2e%2e/admin/users', 403],
    ['/%2e%2e/admin', 403],
    ['//admin/users', 403],
    ['/admin%2Fusers', 403],
    ['/admin;jsessionid=1/users', 403],
  ] as const)('path %s on one kept-alive connection → %i', async ([path, status]) => {
    const tls = await githubConnection();
    const before = tlsUpstream.seen.length;
    const first = await request(tls, 'GET', path, { Host: 'api.github.com' });
    // The same connection keeps working after a denial: the next request gets its own decision.
    const second = await request(tls, 'GET', '/repos/o/r', { Host: 'api.github.com' });
    tls.destroy();
    expect(first.status).toBe(status);
    expect(second.status).toBe(200);
    if (status === 403) {
      expect(first.headers['x-openshell-policy']).toBe('github-api');
      expect(tlsUpstream.seen.length).toBe(before + 1);
    } else {
      expect(tlsUpstream.seen[before]?.url).toBe(path);
    }
  });

  test.for([
    ['matching SNI and Host', 'api.github.com', 'api.github.com', 200, null],
    [
      'Host of another site',
      'api.github.com',
      'evil.example.org',
      403,
      'request_authority_mismatch',
    ],
    [
      'Host with another port',
      'api.github.com',
      'api.github.com:8443',
      403,
      'request_authority_mismatch',
    ],
    [
      'SNI of another site',
      'evil.example.org',
      'api.github.com',
      403,
      'request_authority_mismatch',
    ],
  ] as const)('%s → %i', async ([, sni, host, status, error]) => {
    const tls = await githubConnection(sni);
    const r = await request(tls, 'GET', '/repos/o/r', { Host: host });
    tls.destroy();
    expect(r.status).toBe(status);
    if (error) expect(JSON.parse(r.body)).toMatchObject({ error });
  });
});

describe('audit enforcement', () => {
  test('a request the rules refuse is forwarded and logged as audit', async () => {
    const r = await curl(
      harness.url,
      ['-X', 'POST', '-d', 'x=1', 'https://audit.example.com/write'],
      { caFile: caBundle },
    );
    expect(r.code).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ method: 'POST', url: '/write', body: 'x=1' });
    expect(harness.events.findLast((e) => e.host === 'audit.example.com')).toMatchObject({
      action: 'audit',
      layer: 'l7',
    });
  });
});

describe('forward-form HTTP (GET http://host/path)', () => {
  test.for([
    ['/public/readme', 200],
    ['/private/keys', 403],
  ] as const)('%s → %i', async ([path, status]) => {
    const r = await curl(harness.url, [`http://plain.example.com${path}`]);
    expect(r.code).toBe(status);
    if (status === 403)
      expect(JSON.parse(r.body)).toMatchObject({
        error: 'policy_denied',
        host: 'plain.example.com',
        port: 80,
        path,
      });
  });

  test('the Host header is replaced by the URL authority (no fronting through an allowed host)', async () => {
    const socket = connect({ host: '127.0.0.1', port: harness.port });
    const r = await request(socket, 'GET', 'http://plain.example.com/public/a', {
      Host: 'evil.example.org',
    });
    socket.destroy();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ headers: { host: 'plain.example.com' } });
  });

  test.for([
    ['GET https://api.github.com/ HTTP/1.1', 400, 'Use CONNECT for HTTPS URLs'],
    ['GET /relative HTTP/1.1', 400, 'absolute http:// URL'],
    ['GET http://user@plain.example.com/public/ HTTP/1.1', 400, 'userinfo'],
  ] as const)('%s → %i', async ([line, status, detail]) => {
    const socket = connect({ host: '127.0.0.1', port: harness.port });
    socket.write(`${line}\r\nHost: x\r\n\r\n`);
    const r = await readResponse(socket);
    socket.destroy();
    expect(r.status).toBe(status);
    expect(JSON.parse(r.body).detail).toContain(detail);
  });
});
