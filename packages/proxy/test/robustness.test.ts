import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openTunnel, readAll, waitClosed } from './helpers/clients.js';
import { NODE_EXE, startHarness, type Harness } from './helpers/proxy-harness.js';
import { startHalfCloseServer } from './helpers/upstream-servers.js';

const POLICY = `
version: 1
network_policies:
  echo:
    name: echo
    endpoints:
      - { host: echo.example.com, port: 9000 }
    binaries:
      - path: ${NODE_EXE}
`;

let echo: { port: number; close(): Promise<void> };
let harness: Harness;

beforeAll(async () => {
  echo = await startHalfCloseServer();
  harness = await startHarness({
    policy: POLICY,
    options: {
      resolveOverrides: [`echo.example.com:9000=127.0.0.1:${echo.port}`],
      headersTimeoutMs: 400,
      idleTimeoutMs: 600,
      maxTunnelsPerSandbox: 3,
      maxHeaderBytes: 4096,
    },
  });
});

afterAll(async () => {
  await harness.close();
  await echo.close();
});

function rawExchange(bytes: string | Buffer): Promise<{ socket: Socket; text: Promise<string> }> {
  const socket = connect({ host: '127.0.0.1', port: harness.port });
  const text = readAll(socket);
  socket.write(bytes);
  return Promise.resolve({ socket, text });
}

async function tunnelWorks(): Promise<void> {
  const { socket, response } = await openTunnel(harness.port, 'echo.example.com:9000');
  expect(response.status).toBe(200);
  socket.end('hi');
  expect(await readAll(socket)).toBe('got:hi');
}

describe('malformed input gets a 4xx and the proxy keeps serving', () => {
  test.for([
    ['binary garbage', 400, Buffer.from([0, 1, 2, 0xff, 0x16, 0x03, 13, 10, 13, 10])],
    ['a text line that is not HTTP', 400, 'HELLO WORLD\r\n\r\n'],
    ['CONNECT without a port', 400, 'CONNECT echo.example.com HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['CONNECT with userinfo', 400, 'CONNECT user@echo.example.com:9000 HTTP/1.1\r\n\r\n'],
    [
      'Content-Length and Transfer-Encoding together (smuggling)',
      400,
      'POST http://echo.example.com:9000/ HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'a request head over the size limit',
      431,
      `GET http://echo.example.com:9000/ HTTP/1.1\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`,
    ],
  ] as const)('%s → %i', async ([, status, bytes]) => {
    const { text } = await rawExchange(bytes);
    expect((await text).split('\r\n')[0]).toBe(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}`,
    );
    await tunnelWorks();
  });

  test('a connection that stalls inside its request head is closed after the header timeout', async () => {
    const { socket, text } = await rawExchange('CONNECT echo.exa');
    expect(await waitClosed(socket, 3000)).toBe(true);
    expect(await text).toMatch(/^HTTP\/1\.1 408 /);
    await tunnelWorks();
  });

  test('an idle tunnel is closed after the idle timeout; an active one carries data first', async () => {
    await tunnelWorks();
    const { socket } = await openTunnel(harness.port, 'echo.example.com:9000');
    expect(await waitClosed(socket, 3000)).toBe(true);
  });
});

describe('half-open connections', () => {
  test('the client half-closes after sending; the upstream reply still arrives through the tunnel', async () => {
    const { socket, response } = await openTunnel(harness.port, 'echo.example.com:9000');
    expect(response.status).toBe(200);
    socket.write('part1,');
    socket.end('part2');
    expect(await readAll(socket)).toBe('got:part1,part2');
  });
});

describe('tunnel cap per sandbox', () => {
  test('the tunnel over the cap gets 503; after one closes a new one is admitted', async () => {
    const open = await Promise.all(
      [1, 2, 3].map(() => openTunnel(harness.port, 'echo.example.com:9000')),
    );
    expect(open.map((t) => t.response.status)).toEqual([200, 200, 200]);
    const over = await openTunnel(harness.port, 'echo.example.com:9000');
    over.socket.destroy();
    expect(over.response.status).toBe(503);
    expect(JSON.parse(over.response.body)).toMatchObject({ error: 'tunnel_limit' });
    open[0]?.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const again = await openTunnel(harness.port, 'echo.example.com:9000');
    expect(again.response.status).toBe(200);
    for (const t of [...open, again]) t.socket.destroy();
  });
});

describe('many concurrent tunnels', () => {
  test('1,000 concurrent CONNECT tunnels all open and carry their own bytes', async () => {
    const many = await startHarness({
      policy: POLICY,
      options: {
        resolveOverrides: [`echo.example.com:9000=127.0.0.1:${echo.port}`],
        maxTunnelsPerSandbox: 2000,
      },
    });
    try {
      const count = 1000;
      const tunnels = await Promise.all(
        Array.from({ length: count }, () => openTunnel(many.port, 'echo.example.com:9000')),
      );
      expect(tunnels.filter((t) => t.response.status === 200)).toHaveLength(count);
      const replies = await Promise.all(
        tunnels.map((t, i) => {
          t.socket.end(`n${i}`);
          return readAll(t.socket);
        }),
      );
      expect(replies.every((r, i) => r === `got:n${i}`)).toBe(true);
    } finally {
      await many.close();
    }
  }, 60_000);
});
