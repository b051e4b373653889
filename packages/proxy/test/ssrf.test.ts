import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DialTarget, ResolvedAddress } from '../src/index.js';
import { openTunnel, readAll, readResponse } from './helpers/clients.js';
import { NODE_EXE, startHarness, type Harness } from './helpers/proxy-harness.js';
import { startHalfCloseServer } from './helpers/upstream-servers.js';

/** What the injected resolver answers: real-looking names pointing where an attacker would aim. */
const DNS: Record<string, ResolvedAddress[]> = {
  'loopback.example.com': [{ address: '127.0.0.1', family: 4 }],
  'metadata.example.com': [{ address: '169.254.169.254', family: 4 }],
  'mapped.example.com': [{ address: '::ffff:127.0.0.1', family: 6 }],
  'unspecified.example.com': [{ address: '0.0.0.0', family: 4 }],
  'multicast.example.com': [{ address: '224.0.0.1', family: 4 }],
  'private.example.com': [{ address: '10.0.5.7', family: 4 }],
  'cgnat.example.com': [{ address: '100.64.1.2', family: 4 }],
  'ula.example.com': [{ address: 'fd00::7', family: 6 }],
  'mixed.example.com': [
    { address: '93.184.216.34', family: 4 },
    { address: '10.0.0.1', family: 4 },
  ],
  'allowed-private.example.com': [{ address: '10.0.5.7', family: 4 }],
  'public.example.com': [{ address: '93.184.216.34', family: 4 }],
  'override.example.com': [{ address: '127.0.0.1', family: 4 }],
};

const hosts = [...Object.keys(DNS), 'nxdomain.example.com']
  .map((h) => `      - { host: ${h}, ports: [443, 80] }`)
  .join('\n');

const POLICY = `
version: 1
network_policies:
  ssrf:
    name: ssrf-targets
    endpoints:
${hosts.replace('      - { host: allowed-private.example.com, ports: [443, 80] }', '      - { host: allowed-private.example.com, ports: [443, 80], allowed_ips: [10.0.5.0/24] }')}
    binaries:
      - path: ${NODE_EXE}
`;

let harness: Harness;
let echo: { port: number; close(): Promise<void> };
const dialed: DialTarget[] = [];
const lookups: string[] = [];

beforeAll(async () => {
  echo = await startHalfCloseServer();
  harness = await startHarness({
    policy: POLICY,
    options: { resolveOverrides: [`override.example.com:443=127.0.0.1:${echo.port}`] },
    deps: {
      resolveHost: (host) => {
        lookups.push(host);
        const found = DNS[host];
        return found
          ? Promise.resolve(found)
          : Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
      },
      // Tests never send traffic off loopback: every validated address is recorded, then
      // the connection is made to the local echo server instead.
      dial: (target) => {
        dialed.push(target);
        return netConnect({ host: '127.0.0.1', port: echo.port, allowHalfOpen: true });
      },
    },
  });
});

afterAll(async () => {
  await harness.close();
  await echo.close();
});

describe('SSRF: the proxy resolves once, checks every address, dials what it checked', () => {
  test.for([
    ['loopback.example.com', 403],
    ['metadata.example.com', 403],
    ['mapped.example.com', 403],
    ['unspecified.example.com', 403],
    ['multicast.example.com', 403],
    ['private.example.com', 403],
    ['cgnat.example.com', 403],
    ['ula.example.com', 403],
    ['mixed.example.com', 403],
    ['allowed-private.example.com', 200],
    ['public.example.com', 200],
  ] as const)('CONNECT %s:443 → %i', async ([host, status]) => {
    dialed.length = 0;
    lookups.length = 0;
    const { socket, response } = await openTunnel(harness.port, `${host}:443`);
    socket.destroy();
    expect(response.status).toBe(status);
    expect(lookups).toEqual([host]);
    if (status === 403) {
      expect(response.body).toBe(
        `{"error":"ssrf_denied","detail":"CONNECT ${host}:443 blocked: internal address"}`,
      );
      expect(dialed).toEqual([]);
      expect(harness.events.findLast((e) => e.host === host)).toMatchObject({
        action: 'deny',
        outcome: 'ssrf_denied',
      });
    } else {
      // The address dialled is the one validated: no second lookup, no other address.
      expect(dialed).toEqual([{ ...DNS[host]?.[0], port: 443 }]);
    }
  });

  test('a resolve override is trusted for exactly its host:port, not for the same name on another port', async () => {
    dialed.length = 0;
    const viaOverride = await openTunnel(harness.port, 'override.example.com:443');
    viaOverride.socket.end('ping');
    expect(viaOverride.response.status).toBe(200);
    expect(dialed).toEqual([{ address: '127.0.0.1', port: echo.port, family: 4 }]);
    const reply = await readAll(viaOverride.socket);
    expect(reply).toBe('got:ping');

    const otherPort = await openTunnel(harness.port, 'override.example.com:80');
    otherPort.socket.destroy();
    expect(otherPort.response.status).toBe(403);
    expect(JSON.parse(otherPort.response.body)).toMatchObject({ error: 'ssrf_denied' });
  });

  test.for([
    ['loopback.example.com', 403, 'ssrf_denied'],
    ['nxdomain.example.com', 502, 'upstream_failed'],
  ] as const)('forward-form GET http://%s/ → %i %s', async ([host, status, error]) => {
    const socket = netConnect({ host: '127.0.0.1', port: harness.port });
    socket.write(`GET http://${host}/ HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    const r = await readResponse(socket);
    socket.destroy();
    expect(r.status).toBe(status);
    expect(JSON.parse(r.body)).toMatchObject({ error });
  });
});
