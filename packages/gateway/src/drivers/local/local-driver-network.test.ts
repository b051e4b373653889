import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SandboxHandle } from '../compute-driver.js';
import {
  createDriverFixture,
  makeSpec,
  type DriverFixture,
} from './test-helpers/driver-fixture.js';
import {
  listenCounting,
  pickPort,
  probeDns,
  probeTcp,
  probeUdp,
  type CountingServer,
} from './test-helpers/net-probes.js';

// Real network namespaces and nftables: these tests need root and must run (never skip).
const run = promisify(execFile);
/** Agent program: connect once, at start-up, and report (no retry, so no hidden race). */
const FIRST_CONNECT = `
const socket = require('node:net').connect({ host: process.argv[1], port: Number(process.argv[2]) });
socket.on('connect', () => { console.log('first connect: connected'); socket.destroy(); });
socket.on('error', (e) => { console.log('first connect: ' + e.code); process.exitCode = 1; });
`;
/** The same, but like the agent: the first connection waits for the driver's gate on fd 7. */
const GATED_FIRST_CONNECT = `
const gate = new (require('node:net').Socket)({ fd: Number(process.argv[3]), readable: true, writable: false });
gate.once('data', (byte) => {
  console.log('gate: ' + byte.toString());
  gate.destroy();
  ${FIRST_CONNECT}
});
gate.once('end', () => { console.log('gate: closed'); process.exitCode = 2; });
`;
let fixture: DriverFixture;
let sandbox: SandboxHandle;
let neighbour: SandboxHandle;
let proxy: CountingServer;
let supervisor: CountingServer;
let otherService: CountingServer;

beforeAll(async () => {
  fixture = await createDriverFixture({ prefix: 'otn', pool: '10.231.1.0/24', uidBase: 231_100 });
  const proxyPort = await pickPort();
  const supervisorPort = await pickPort();
  sandbox = await fixture.driver.create(
    makeSpec('net-a', { proxy: { port: proxyPort }, supervisor: { port: supervisorPort } }),
  );
  // The proxy binds the host side of the veth pair, which exists once create() returns.
  proxy = await listenCounting(sandbox.network.hostAddress, proxyPort);
  supervisor = await listenCounting(sandbox.network.hostAddress, supervisorPort);
  otherService = await listenCounting(sandbox.network.hostAddress);
  neighbour = await fixture.driver.create(
    makeSpec('net-b', {
      proxy: { port: proxyPort },
      command: [
        '/usr/bin/node',
        '-e',
        // Probes hang up at once; without an error handler the reset would end the agent.
        "require('node:net').createServer((s) => { s.on('error', () => {}); s.end('b'); }).listen(8080)",
      ],
    }),
  );
}, 30_000);

afterAll(async () => {
  await Promise.all([proxy.close(), supervisor.close(), otherService.close()]);
  await fixture.cleanup();
});

describe('egress from a sandbox', () => {
  test('the proxy address and port is reachable (positive control)', async () => {
    const before = proxy.accepted();
    await expect(
      probeTcp(fixture.driver, 'net-a', sandbox.network.hostAddress, proxy.port),
    ).resolves.toEqual({
      result: 'connected',
    });
    expect(proxy.accepted()).toBe(before + 1);
  });

  test.for([
    {
      what: 'another port on the proxy address',
      host: () => sandbox.network.hostAddress,
      port: () => otherService.port,
    },
    { what: 'a host address outside the sandbox network', host: () => '192.0.2.2', port: () => 22 },
    { what: 'a public address', host: () => '203.0.113.7', port: () => 443 },
    {
      what: "the neighbour sandbox's address",
      host: () => neighbour.network.sandboxAddress,
      port: () => 8080,
    },
    {
      what: "the neighbour sandbox's host side",
      host: () => neighbour.network.hostAddress,
      port: () => proxy.port,
    },
  ])('direct TCP to $what is refused at once (ECONNREFUSED)', async ({ host, port }) => {
    await expect(probeTcp(fixture.driver, 'net-a', host(), port())).resolves.toEqual({
      result: 'error',
      code: 'ECONNREFUSED',
    });
  });

  test('a service on the host side that is not the proxy saw no connection', () => {
    // Reachable from the host itself (its own positive control is that it accepted 0 here
    // while the proxy, on the same address, accepted the allowed probe).
    expect(otherService.accepted()).toBe(0);
  });

  test('the neighbour serves on its own loopback (positive control for the refusal above)', async () => {
    await expect(probeTcp(fixture.driver, 'net-b', '127.0.0.1', 8080)).resolves.toEqual({
      result: 'connected',
    });
  });

  test('IPv6 out fails at once', async () => {
    const result = await probeTcp(fixture.driver, 'net-a', 'fd00::2', 22);
    expect(result.result).toBe('error');
    expect(['ECONNREFUSED', 'ENETUNREACH', 'EADDRNOTAVAIL']).toContain(result.code);
  });

  test('UDP out is refused at send (EPERM), also to the host resolver', async () => {
    await expect(
      probeUdp(fixture.driver, 'net-a', sandbox.network.hostAddress, 53),
    ).resolves.toEqual({
      result: 'error',
      code: 'EPERM',
    });
    await expect(probeUdp(fixture.driver, 'net-a', '10.255.255.53', 53)).resolves.toEqual({
      result: 'error',
      code: 'EPERM',
    });
  });

  test('UDP on the sandbox loopback still works (positive control)', async () => {
    await expect(probeUdp(fixture.driver, 'net-a', '127.0.0.1', 9)).resolves.toEqual({
      result: 'sent',
    });
  });

  test('DNS fails for a public name, /etc/hosts names still resolve', async () => {
    const publicName = await probeDns(fixture.driver, 'net-a', 'example.com');
    expect(publicName.result).toBe('error');
    await expect(probeDns(fixture.driver, 'net-a', 'localhost')).resolves.toEqual({
      result: 'resolved',
    });
  });
});

describe('supervisor endpoint', () => {
  test('the agent uid reaches it', async () => {
    const before = supervisor.accepted();
    await expect(
      probeTcp(fixture.driver, 'net-a', sandbox.network.hostAddress, supervisor.port, 'agent'),
    ).resolves.toEqual({ result: 'connected' });
    expect(supervisor.accepted()).toBe(before + 1);
  });

  test('the sandbox user is refused', async () => {
    const before = supervisor.accepted();
    await expect(
      probeTcp(fixture.driver, 'net-a', sandbox.network.hostAddress, supervisor.port, 'sandbox'),
    ).resolves.toEqual({ result: 'error', code: 'ECONNREFUSED' });
    expect(supervisor.accepted()).toBe(before);
  });

  test('a sandbox created without one gives even the agent no way to the gateway', async () => {
    await expect(
      probeTcp(fixture.driver, 'net-b', neighbour.network.hostAddress, supervisor.port, 'agent'),
    ).resolves.toEqual({ result: 'error', code: 'ECONNREFUSED' });
  });
});

describe('a proxy on a shared host address', () => {
  // One proxy for every sandbox, on an address outside each sandbox's /30: the driver adds
  // a /32 route to it via the host side. The address is added to the host's loopback for
  // this test only.
  const SHARED = '10.231.6.1';
  let shared: CountingServer;

  beforeAll(async () => {
    await run('ip', ['addr', 'add', `${SHARED}/32`, 'dev', 'lo']);
    shared = await listenCounting(SHARED);
  });

  afterAll(async () => {
    await shared.close();
    await run('ip', ['addr', 'del', `${SHARED}/32`, 'dev', 'lo']);
  });

  test("is reachable by the agent's very first connection (the network is up before it starts)", async () => {
    const handle = await fixture.driver.create(
      makeSpec('net-c', {
        proxy: { address: SHARED, port: shared.port },
        command: ['/usr/bin/node', '-e', FIRST_CONNECT, SHARED, String(shared.port)],
      }),
    );
    await expect(fixture.driver.waitExit('net-c')).resolves.toEqual({ code: 0 });
    expect(await readFile(handle.logFile, 'utf8')).toContain('first connect: connected');
    expect(shared.accepted()).toBe(1);
    await fixture.driver.delete('net-c');
  });

  test('a command that waits for the gate itself gets it, and its first connection then works', async () => {
    const gateFd = fixture.driver.startGateFd;
    expect(gateFd).toBeTypeOf('number');
    const before = shared.accepted();
    const handle = await fixture.driver.create(
      makeSpec('net-d', {
        proxy: { address: SHARED, port: shared.port },
        commandWaitsForGate: true,
        command: [
          '/usr/bin/node',
          '-e',
          GATED_FIRST_CONNECT,
          SHARED,
          String(shared.port),
          String(gateFd),
        ],
      }),
    );
    await expect(fixture.driver.waitExit('net-d')).resolves.toEqual({ code: 0 });
    const log = await readFile(handle.logFile, 'utf8');
    expect(log).toContain('gate: 1');
    expect(log).toContain('first connect: connected');
    expect(shared.accepted()).toBe(before + 1);
    await fixture.driver.delete('net-d');
  });
});
