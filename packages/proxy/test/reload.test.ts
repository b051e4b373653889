import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openTunnel, readAll, request, startTls, waitClosed } from './helpers/clients.js';
import { NODE_EXE, startHarness, type Harness } from './helpers/proxy-harness.js';
import {
  createTestCertificate,
  startHalfCloseServer,
  startHttpsUpstream,
  type Upstream,
} from './helpers/upstream-servers.js';

const policy = (access: string, rawHosts: readonly string[]): string => `
version: 1
network_policies:
  github:
    name: github-api
    endpoints:
      - { host: api.github.com, port: 443, protocol: rest, access: ${access} }
${rawHosts.map((h) => `      - { host: ${h}, port: 9000 }`).join('\n')}
    binaries:
      - path: ${NODE_EXE}
`;

let upstream: Upstream;
let echo: { port: number; close(): Promise<void> };
let certPem: string;
let overrides: string[];
let harness: Harness;

beforeAll(async () => {
  const cert = await createTestCertificate(['api.github.com']);
  certPem = cert.certPem;
  upstream = await startHttpsUpstream(cert);
  echo = await startHalfCloseServer();
  overrides = [
    `api.github.com:443=127.0.0.1:${upstream.port}`,
    `drop.example.com:9000=127.0.0.1:${echo.port}`,
    `keep.example.com:9000=127.0.0.1:${echo.port}`,
  ];
  harness = await startHarness({
    policy: policy('read-only', ['drop.example.com', 'keep.example.com']),
    options: { upstreamCaPem: certPem, resolveOverrides: overrides },
  });
});

afterAll(async () => {
  await harness.close();
  await upstream.close();
  await echo.close();
});

describe('hot reload', () => {
  test('the next request on a kept-alive connection is decided by the new policy, both ways', async () => {
    const { socket } = await openTunnel(harness.port, 'api.github.com:443');
    const tls = await startTls(socket, 'api.github.com', harness.proxy.caCertPem);
    const post = (): Promise<number> =>
      request(tls, 'POST', '/repos/o/r/issues', { Host: 'api.github.com' }, '{}').then(
        (r) => r.status,
      );
    expect(await post()).toBe(403);
    const ack = await harness.setPolicy(
      policy('read-write', ['drop.example.com', 'keep.example.com']),
    );
    expect(ack).toEqual({ sandbox: 'default', version: expect.any(Number), ok: true });
    expect(await post()).toBe(200);
    await harness.setPolicy(policy('read-only', ['drop.example.com', 'keep.example.com']));
    expect(await post()).toBe(403);
    tls.destroy();
  });

  test('a raw tunnel the new policy no longer allows is closed; one still allowed stays open', async () => {
    const dropped = await openTunnel(harness.port, 'drop.example.com:9000');
    const kept = await openTunnel(harness.port, 'keep.example.com:9000');
    expect([dropped.response.status, kept.response.status]).toEqual([200, 200]);
    await harness.setPolicy(policy('read-only', ['keep.example.com']));
    expect(await waitClosed(dropped.socket, 2000)).toBe(true);
    kept.socket.end('still-here');
    expect(await readAll(kept.socket)).toBe('got:still-here');
    expect(harness.events.findLast((e) => e.outcome === 'tunnel_closed_by_reload')).toMatchObject({
      host: 'drop.example.com',
      action: 'deny',
    });
    await harness.setPolicy(policy('read-only', ['drop.example.com', 'keep.example.com']));
  });

  test.for([
    [
      'an invalid policy',
      'version: 1\nnetwork_policies:\n  x:\n    endpoints: [{ host: "*.com", port: 443 }]\n',
      'ERR_POLICY',
    ],
    ['an unknown key', 'version: 1\nnetwork_polices: {}\n', 'network_polices'],
  ] as const)(
    '%s is refused with an error ack and the last good policy keeps enforcing',
    async ([, text, fragment]) => {
      const ack = await harness.setPolicy(text);
      expect(ack.ok).toBe(false);
      expect(ack.error).toContain(fragment === 'ERR_POLICY' ? '*.com' : fragment);
      const { socket, response } = await openTunnel(harness.port, 'keep.example.com:9000');
      socket.destroy();
      expect(response.status).toBe(200);
    },
  );

  test('an older version than the active one is refused', async () => {
    const ack = await harness.proxy.setSandbox({
      id: 'default',
      sourceAddresses: ['127.0.0.0/8'],
      policy: policy('full', []),
      version: 0,
    });
    expect(ack).toMatchObject({ ok: false, version: 0 });
    expect(ack.error).toContain('older than the active version');
  });

  test('removing the sandbox closes its tunnels and denies from then on', async () => {
    const other = await startHarness({
      policy: policy('read-only', ['keep.example.com']),
      options: { resolveOverrides: overrides },
    });
    const open = await openTunnel(other.port, 'keep.example.com:9000');
    expect(open.response.status).toBe(200);
    expect(await other.proxy.removeSandbox('default')).toBe(true);
    expect(await waitClosed(open.socket, 2000)).toBe(true);
    const after = await openTunnel(other.port, 'keep.example.com:9000');
    after.socket.destroy();
    expect(after.response.status).toBe(403);
    expect(other.events.at(-1)).toMatchObject({ outcome: 'sandbox_unknown' });
    await other.close();
  });
});

describe('persistence', () => {
  test('a restarted proxy enforces the last policy it was given, before anyone pushes again', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'proxy-persist-'));
    try {
      const first = await startHarness({
        stateDir,
        policy: policy('read-only', ['keep.example.com']),
        options: { resolveOverrides: overrides },
      });
      await first.close();
      const second = await startHarness({ stateDir, options: { resolveOverrides: overrides } });
      expect(second.proxy.restored).toEqual([{ sandbox: 'default', version: 1, ok: true }]);
      const allowed = await openTunnel(second.port, 'keep.example.com:9000');
      const denied = await openTunnel(second.port, 'drop.example.com:9000');
      allowed.socket.destroy();
      denied.socket.destroy();
      expect([allowed.response.status, denied.response.status]).toEqual([200, 403]);
      await second.close();
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  test('with no policy at all every connection is denied', async () => {
    const bare = await startHarness({ options: { resolveOverrides: overrides } });
    const { socket, response } = await openTunnel(bare.port, 'keep.example.com:9000');
    socket.destroy();
    expect(response.status).toBe(403);
    expect(bare.events[0]).toMatchObject({ outcome: 'sandbox_unknown', action: 'deny' });
    await bare.close();
  });
});
