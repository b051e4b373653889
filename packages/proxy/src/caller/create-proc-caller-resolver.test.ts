import { spawn, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createProcCallerResolver,
  type ProcCallerResolverOptions,
} from './create-proc-caller-resolver.js';
import { encodeSocketKeys, findInodes } from './proc-net-tcp.js';

let server: Server;
let port: number;
const accepted: Socket[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  server = createServer((s) => accepted.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of accepted) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

/** Runs `bash -c script` (which connects to the test server) and returns the accepted socket. */
async function connectFrom(script: string): Promise<Socket> {
  const before = accepted.length;
  children.push(
    spawn('/usr/bin/bash', ['-c', script.replaceAll('PORT', String(port))], { stdio: 'ignore' }),
  );
  for (let i = 0; i < 100 && accepted.length === before; i++)
    await new Promise((r) => setTimeout(r, 20));
  const socket = accepted[before];
  if (!socket) throw new Error('the child never connected');
  // Let the child finish forking so every holder exists before we look.
  await new Promise((r) => setTimeout(r, 150));
  return socket;
}

function infoOf(
  socket: Socket,
): Parameters<ReturnType<typeof createProcCallerResolver>['resolve']>[0] {
  return {
    sandboxId: 't',
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
  };
}

/** The addon (bounded walk on the event loop first), the addon on a worker thread only, the JS walk. */
const MODES = {
  native: { socketLookup: 'native' },
  'native-worker': { socketLookup: 'native', syncWalkCost: 0 },
  proc: { socketLookup: 'proc' },
} as const satisfies Record<string, ProcCallerResolverOptions>;

describe.for(Object.keys(MODES) as (keyof typeof MODES)[])('host caller resolver (%s)', (mode) => {
  const warnings: string[] = [];
  const resolver = createProcCallerResolver({
    ...MODES[mode],
    warn: (m) => warnings.push(m),
  });
  afterAll(() => {
    resolver.close?.();
    // The native rows must really have used the addon, not fallen back to the JS walk.
    expect(warnings).toEqual([]);
  });

  test('a socket held by one process resolves to its executable and its ancestors (nearest first)', async () => {
    const socket = await connectFrom('exec 3<>/dev/tcp/127.0.0.1/PORT; read -t 30 -u 3');
    const who = await resolver.resolve(infoOf(socket));
    expect(who?.exe).toBe('/usr/bin/bash');
    expect(who?.ancestors[0]).toBe(realpathSync(process.execPath));
    expect(who?.pid).toBe(children.at(-1)?.pid);
  });

  test('a socket shared by two different executables (inherited by a child) is ambiguous → null', async () => {
    const socket = await connectFrom('exec 3<>/dev/tcp/127.0.0.1/PORT; /usr/bin/sleep 30 & wait');
    expect(await resolver.resolve(infoOf(socket))).toBeNull();
  });

  test('a 4-tuple no process holds → null', async () => {
    const socket = await connectFrom('exec 3<>/dev/tcp/127.0.0.1/PORT; read -t 30 -u 3');
    expect(await resolver.resolve({ ...infoOf(socket), remotePort: 1 })).toBeNull();
  });

  test('concurrent lookups are answered together and each gets its own caller', async () => {
    const a = await connectFrom('exec 3<>/dev/tcp/127.0.0.1/PORT; read -t 30 -u 3');
    const b = await connectFrom('exec 3<>/dev/tcp/127.0.0.1/PORT; exec /usr/bin/sleep 30 3<&3');
    const [ra, rb] = await Promise.all([resolver.resolve(infoOf(a)), resolver.resolve(infoOf(b))]);
    expect([ra?.exe, rb?.exe]).toEqual(['/usr/bin/bash', '/usr/bin/sleep']);
  });
});

test('an addon that does not load hands every lookup to the /proc walk in JS, which finds the same caller', async () => {
  const warnings: string[] = [];
  // /usr/bin/false is no shared object: the addon fails to load.
  const resolver = createProcCallerResolver({
    addonPath: '/usr/bin/false',
    warn: (m) => warnings.push(m),
  });
  try {
    const socket = await connectFrom(
      'exec 3<>/dev/tcp/127.0.0.1/PORT; exec /usr/bin/sleep 30 3<&3',
    );
    expect(await resolver.resolve(infoOf(socket))).toMatchObject({
      pid: children.at(-1)?.pid,
      exe: '/usr/bin/sleep',
    });
    expect(await resolver.resolve({ ...infoOf(socket), remotePort: 1 })).toBeNull();
    expect(
      warnings.filter((w) => w.startsWith('WARNING: the caller identification addon')),
    ).toHaveLength(1);
    expect(warnings).toHaveLength(1);
  } finally {
    resolver.close?.();
  }
});

describe('/proc/net/tcp encoding', () => {
  test('keys are written as the kernel prints them (little-endian words, hex port)', () => {
    expect(encodeSocketKeys('127.0.0.1', 40000, '127.0.0.1', 3128)).toEqual({
      tcp: '0100007F:9C40|0100007F:0C38',
      tcp6: '0000000000000000FFFF00000100007F:9C40|0000000000000000FFFF00000100007F:0C38',
    });
    expect(encodeSocketKeys('::1', 1, '::1', 2)?.tcp).toBeNull();
  });

  test('findInodes picks inode and uid from the matching line only', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:0C38 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:9C40 0100007F:0C38 01 00000000:00000000 00:00000000 00000000  1001        0 2222 1 0000000000000000 20 4 30 10 -1',
      '   2: 0100007F:9C41 0100007F:0C38 06 00000000:00000000 03:00000F4A 00000000     0        0 0 3 0000000000000000',
    ].join('\n');
    expect([
      ...findInodes(table, new Set(['0100007F:9C40|0100007F:0C38', '0100007F:9C41|0100007F:0C38'])),
    ]).toEqual([['0100007F:9C40|0100007F:0C38', { inode: 2222, uid: 1001 }]]);
  });
});
