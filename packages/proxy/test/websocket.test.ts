import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { openTunnel, startTls } from './helpers/clients.js';
import { NODE_EXE, startHarness, type Harness } from './helpers/proxy-harness.js';
import {
  attachWebSocketEcho,
  createTestCertificate,
  startHttpsUpstream,
  type Upstream,
} from './helpers/upstream-servers.js';

const POLICY = `
version: 1
network_policies:
  streams:
    name: streams
    endpoints:
      - host: stream.example.com
        port: 443
        protocol: rest
        rules:
          - allow: { method: GET, path: "/live/**" }
    binaries:
      - path: ${NODE_EXE}
`;

let upstream: Upstream;
let harness: Harness;

beforeAll(async () => {
  const cert = await createTestCertificate(['stream.example.com']);
  upstream = await startHttpsUpstream(cert);
  attachWebSocketEcho(upstream);
  harness = await startHarness({
    policy: POLICY,
    options: {
      upstreamCaPem: cert.certPem,
      resolveOverrides: [`stream.example.com:443=127.0.0.1:${upstream.port}`],
    },
  });
});

afterAll(async () => {
  await harness.close();
  await upstream.close();
});

async function tunnelTls(): Promise<TLSSocket> {
  const { socket } = await openTunnel(harness.port, 'stream.example.com:443');
  return startTls(socket, 'stream.example.com', harness.proxy.caCertPem);
}

/** Opens a WebSocket through the intercepted tunnel; resolves with the echo or the refusal status. */
async function exchange(path: string): Promise<{ reply?: string; status?: number }> {
  const socket = await tunnelTls();
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://stream.example.com${path}`, { createConnection: () => socket });
    ws.once('open', () => ws.send('ping'));
    ws.once('message', (data: Buffer) => {
      resolve({ reply: data.toString() });
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      socket.destroy();
    });
    ws.once('error', () => resolve({}));
  });
}

describe('WebSocket through an intercepted TLS tunnel', () => {
  test('an allowed upgrade (GET /live/feed) is relayed and frames flow both ways', async () => {
    expect(await exchange('/live/feed')).toEqual({ reply: 'echo:ping' });
    expect(harness.events.findLast((e) => e.method === 'GET')).toMatchObject({
      action: 'allow',
      path: '/live/feed',
      layer: 'l7',
    });
  });

  test('an upgrade to a path the rules do not allow is refused with 403 before reaching the upstream', async () => {
    expect(await exchange('/admin/feed')).toEqual({ status: 403 });
    expect(harness.events.findLast((e) => e.method === 'GET')).toMatchObject({
      action: 'deny',
      path: '/admin/feed',
    });
  });
});
