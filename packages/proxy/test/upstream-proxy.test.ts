import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { curl, openTunnel, readAll } from './helpers/clients.js';
import { NODE_EXE, startHarness, type Harness } from './helpers/proxy-harness.js';
import { startTestConnectProxy, type TestConnectProxy } from './helpers/test-connect-proxy.js';
import {
  createTestCertificate,
  startHalfCloseServer,
  startHttpUpstream,
  startHttpsUpstream,
  type Upstream,
} from './helpers/upstream-servers.js';

const POLICY = `
version: 1
network_policies:
  chained:
    name: chained
    endpoints:
      - { host: raw.example.com, port: 9000 }
      - { host: refused.example.com, port: 9000 }
      - { host: direct.example.com, port: 9000 }
      - { host: localhost, port: 9000 }
      - { host: 10.0.0.5, port: 9000 }
      - { host: 10.0.0.6, port: 9000, allowed_ips: [10.0.0.0/24] }
      - { host: api.example.com, port: 443, protocol: rest, access: read-only }
      - { host: plain.example.com, port: 80, protocol: rest, access: read-only }
    binaries:
      - path: ${NODE_EXE}
      - path: /usr/bin/curl
`;

let echo: { port: number; close(): Promise<void> };
let tls: Upstream;
let plain: Upstream;
let upstreamProxy: TestConnectProxy;
let harness: Harness;
const lookups: string[] = [];

beforeAll(async () => {
  echo = await startHalfCloseServer();
  const cert = await createTestCertificate(['api.example.com']);
  tls = await startHttpsUpstream(cert);
  plain = await startHttpUpstream();
  upstreamProxy = await startTestConnectProxy({
    'raw.example.com:9000': echo.port,
    'api.example.com:443': tls.port,
    'plain.example.com:80': plain.port,
  });
  harness = await startHarness({
    policy: POLICY,
    options: {
      upstreamProxy: `http://ops:s3cret@127.0.0.1:${upstreamProxy.port}`,
      upstreamCaPem: cert.certPem,
      resolveOverrides: [`direct.example.com:9000=127.0.0.1:${echo.port}`],
    },
    deps: {
      // The upstream proxy resolves names: any lookup of ours would be a bug.
      resolveHost: (host) => {
        lookups.push(host);
        return Promise.reject(new Error('no lookups expected when chaining'));
      },
    },
  });
});

afterAll(async () => {
  await harness.close();
  await upstreamProxy.close();
  await Promise.all([echo.close(), tls.close(), plain.close()]);
});

/** CONNECT through our proxy; returns our status and what the upstream proxy saw meanwhile. */
async function connectVia(authority: string, payload?: string) {
  const before = upstreamProxy.seen.length;
  const { socket, response } = await openTunnel(harness.port, authority);
  let reply: string | null = null;
  if (payload !== undefined && response.status === 200) {
    socket.end(payload);
    reply = await readAll(socket);
  } else {
    socket.destroy();
  }
  return { response, reply, upstreamSaw: upstreamProxy.seen.slice(before) };
}

describe('upstream proxy chaining', () => {
  test('an allowed L4 destination is CONNECTed by name through the upstream proxy, with its credentials', async () => {
    const r = await connectVia('raw.example.com:9000', 'ping');
    expect(r.response.status).toBe(200);
    expect(r.reply).toBe('got:ping');
    expect(r.upstreamSaw).toEqual(['raw.example.com:9000']);
    expect(upstreamProxy.authorizations.at(-1)).toBe(
      `Basic ${Buffer.from('ops:s3cret').toString('base64')}`,
    );
    expect(lookups).toEqual([]);
  });

  test.for([
    ['not in the policy', 'other.example.com:9000', 'policy_denied'],
    ['a loopback name (RFC 6761)', 'localhost:9000', 'ssrf_denied'],
    ['a private literal without allowed_ips', '10.0.0.5:9000', 'ssrf_denied'],
  ] as const)(
    '%s → 403 %s, and the upstream proxy never hears of it',
    async ([, authority, error]) => {
      const r = await connectVia(authority);
      expect(r.response.status).toBe(403);
      expect(JSON.parse(r.response.body)).toMatchObject({ error });
      expect(r.upstreamSaw).toEqual([]);
    },
  );

  test('a private literal covered by allowed_ips is passed to the upstream proxy as is (positive control)', async () => {
    const r = await connectVia('10.0.0.6:9000');
    expect(r.upstreamSaw).toEqual(['10.0.0.6:9000']);
  });

  test('the upstream proxy refusing → our 502 upstream_failed naming its answer (fail closed, no tunnel)', async () => {
    const r = await connectVia('refused.example.com:9000', 'ping');
    expect(r.response.status).toBe(502);
    expect(JSON.parse(r.response.body)).toMatchObject({
      error: 'upstream_failed',
      detail: expect.stringContaining(
        'upstream proxy refused CONNECT refused.example.com:9000 (HTTP/1.1 403 Forbidden)',
      ),
    });
    expect(r.upstreamSaw).toEqual(['refused.example.com:9000']);
    expect(r.reply).toBeNull();
  });

  test('an operator resolve override is dialled directly, not through the upstream proxy', async () => {
    const r = await connectVia('direct.example.com:9000', 'hi');
    expect(r.response.status).toBe(200);
    expect(r.reply).toBe('got:hi');
    expect(r.upstreamSaw).toEqual([]);
  });

  test('TLS-intercepted L7 endpoints chain too: GET allowed, POST refused by our rules', async () => {
    const ca = { caFile: harness.proxy.caBundlePath };
    const get = await curl(harness.url, ['https://api.example.com/repos/o/r'], ca);
    expect(get.code).toBe(200);
    expect(JSON.parse(get.body)).toMatchObject({ method: 'GET', url: '/repos/o/r' });
    const seenBefore = tls.seen.length;
    const post = await curl(
      harness.url,
      ['-X', 'POST', '-d', '{}', 'https://api.example.com/repos/o/r'],
      ca,
    );
    expect(post.code).toBe(403);
    expect(tls.seen.length).toBe(seenBefore);
    expect(upstreamProxy.seen).toContain('api.example.com:443');
  });

  test('forward-form http:// requests chain through a CONNECT to host:80', async () => {
    const before = upstreamProxy.seen.length;
    const r = await curl(harness.url, ['http://plain.example.com/status']);
    expect(r.code).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ method: 'GET', url: '/status' });
    expect(upstreamProxy.seen.slice(before)).toEqual(['plain.example.com:80']);
    expect(lookups).toEqual([]);
  });

  test('an unreachable upstream proxy → 502, never a direct connection', async () => {
    const down = await startHarness({
      policy: POLICY,
      options: { upstreamProxy: 'http://127.0.0.1:1', resolveOverrides: [] },
    });
    try {
      const { socket, response } = await openTunnel(down.port, 'raw.example.com:9000');
      socket.destroy();
      expect(response.status).toBe(502);
    } finally {
      await down.close();
    }
  });
});
