import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SocketInfo } from './caller-resolver.js';
import { encodeSocketKeys, findInodes } from './proc-net-tcp.js';
import { SOCK_DIAG_HELPER, startSockDiagLookup, type SockDiagLookup } from './sock-diag-lookup.js';

let server: Server;
const accepted: Socket[] = [];
let diag: SockDiagLookup;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync(SOCK_DIAG_HELPER))
    throw new Error(
      `${SOCK_DIAG_HELPER} is missing: run "pnpm --filter @openshell/proxy build" first`,
    );
  server = createServer((s) => accepted.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const started = startSockDiagLookup(SOCK_DIAG_HELPER, (m) => {
    throw new Error(`unexpected helper warning: ${m}`);
  });
  if (!started) throw new Error('the helper did not start');
  diag = started;
});

afterAll(async () => {
  diag.close();
  for (const c of children) c.kill('SIGKILL');
  for (const s of accepted) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

async function connection(): Promise<{ client: Socket; info: SocketInfo }> {
  const before = accepted.length;
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  while (accepted.length === before) await new Promise((r) => setImmediate(r));
  const s = accepted[before];
  if (!s) throw new Error('not accepted');
  return {
    client,
    info: {
      sandboxId: 't',
      remoteAddress: s.remoteAddress ?? '',
      remotePort: s.remotePort ?? 0,
      localAddress: s.localAddress ?? '',
      localPort: s.localPort ?? 0,
    },
  };
}

describe('sock_diag helper', () => {
  test('finds the same inode and uid as /proc/net/tcp for a live client socket', async () => {
    const { info } = await connection();
    const keys = encodeSocketKeys(
      info.remoteAddress,
      info.remotePort,
      info.localAddress,
      info.localPort,
    );
    const key = keys?.tcp ?? '';
    const fromTable = findInodes(readFileSync('/proc/self/net/tcp', 'latin1'), new Set([key])).get(
      key,
    );
    expect(fromTable).toBeDefined();
    expect(await diag.lookup(info)).toEqual(fromTable);
  });

  test('a 4-tuple no socket has → null (an answer, not "unavailable")', async () => {
    const { info } = await connection();
    expect(await diag.lookup({ ...info, remotePort: 1 })).toBeNull();
  });

  test('pipelined queries are each answered with their own socket', async () => {
    const conns = [await connection(), await connection(), await connection()];
    const answers = await Promise.all(conns.map((c) => diag.lookup(c.info)));
    const inodes = answers.map((a) => (a && a !== 'unavailable' ? a.inode : 0));
    expect(inodes).not.toContain(0);
    expect(new Set(inodes).size).toBe(3);
  });

  test('looks inside another network namespace through netnsPid, and only there', async () => {
    // A node process in a fresh netns with its own loopback connection; it prints the 4-tuple.
    const script =
      "const n=require('net');const s=n.createServer(()=>{}).listen(0,'127.0.0.1',()=>{const c=n.connect(s.address().port,'127.0.0.1',()=>{console.log(JSON.stringify({lp:c.localPort,rp:s.address().port}))})})";
    const child = spawn('/usr/bin/unshare', [
      '--net',
      '/bin/sh',
      '-c',
      `ip link set lo up && exec "${process.execPath}" -e "${script}"`,
    ]);
    children.push(child);
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString()));
      child.once('exit', (code) =>
        reject(new Error(`unshare --net failed (exit ${code}); this test needs root`)),
      );
    });
    const { lp, rp } = JSON.parse(line) as { lp: number; rp: number };
    const info = {
      sandboxId: 't',
      remoteAddress: '127.0.0.1',
      remotePort: lp,
      localAddress: '127.0.0.1',
      localPort: rp,
    };
    const inside = await diag.lookup({ ...info, netnsPid: child.pid ?? 0 });
    expect(inside).toMatchObject({ inode: expect.any(Number), uid: 0 });
    // The same 4-tuple in our own namespace belongs to nobody.
    expect(await diag.lookup(info)).toBeNull();
  });

  test('who: the holder, its executable and ancestors in one answer (here the proxy itself, looked at last)', async () => {
    const { info } = await connection();
    const who = await diag.identify(info);
    expect(who).toMatchObject({ pid: process.pid, exe: realpathSync(process.execPath) });
    expect(who === 'unavailable' ? null : who?.ancestors).toEqual(expect.any(Array));
  });

  test('who: a 4-tuple no socket has → null; a malformed request → "unavailable"', async () => {
    const { info } = await connection();
    expect(await diag.identify({ ...info, remotePort: 1 })).toBeNull();
    expect(await diag.identify({ ...info, localAddress: 'not-an-address' })).toBe('unavailable');
    // Positive control: the same connection, asked correctly.
    expect(await diag.identify(info)).toMatchObject({ pid: process.pid });
  });

  test('a missing helper binary → no lookup (the resolver reads /proc instead)', () => {
    expect(startSockDiagLookup('/nonexistent/openshell-sock-diag', () => undefined)).toBeNull();
  });

  test('a helper that dies answers "unavailable" and says so once', async () => {
    const warnings: string[] = [];
    const dying = startSockDiagLookup('/usr/bin/false', (m) => warnings.push(m));
    const { info } = await connection();
    expect(await dying?.lookup(info)).toBe('unavailable');
    await new Promise((r) => setTimeout(r, 50));
    expect(await dying?.lookup(info)).toBe('unavailable');
    expect(await dying?.identify(info)).toBe('unavailable');
    expect(warnings.filter((w) => w.includes('stopped'))).toHaveLength(1);
  });
});
