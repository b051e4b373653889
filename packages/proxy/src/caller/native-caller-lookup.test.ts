import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SocketInfo } from './caller-resolver.js';
import { encodeSocketKeys, findInodes } from './proc-net-tcp.js';
import {
  NATIVE_CALLER_ADDON,
  SYNC_WALK_COST,
  loadNativeCallerLookup,
  type NativeCallerLookup,
} from './native-caller-lookup.js';

/** The addon's own surface (native/src/caller-addon.c), for the tests of its two paths. */
interface RawAddon {
  request(lines: string, done: (answers: readonly unknown[]) => void): void;
  requestSync(lines: string, cost: number): readonly unknown[];
}

/** Polls until `pid` runs `exe` (after the exec we asked for). */
async function waitForExe(pid: number, exe: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`) === exe) return;
    } catch {
      // Not there yet.
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} never became ${exe}`);
}

let server: Server;
const accepted: Socket[] = [];
let diag: NativeCallerLookup;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync(NATIVE_CALLER_ADDON))
    throw new Error(
      `${NATIVE_CALLER_ADDON} is missing: run "pnpm --filter @openshell/proxy build" first`,
    );
  server = createServer((s) => accepted.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const started = loadNativeCallerLookup(NATIVE_CALLER_ADDON, (m) => {
    throw new Error(`unexpected addon warning: ${m}`);
  });
  if (!started) throw new Error('the addon did not load');
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

describe('caller addon', () => {
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

  test('queries sent together are each answered with their own socket', async () => {
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

  test('the bounded walk on the event loop hands an unknown holder to the worker thread, then knows it', async () => {
    const addon = createRequire(import.meta.url)(NATIVE_CALLER_ADDON) as RawAddon;
    const before = accepted.length;
    // A process the addon has never seen: finding it needs a scan of every process.
    const child = spawn('/usr/bin/bash', [
      '-c',
      `exec 3<>/dev/tcp/127.0.0.1/${(server.address() as AddressInfo).port}; exec /usr/bin/sleep 30`,
    ]);
    children.push(child);
    while (accepted.length === before) await new Promise((r) => setTimeout(r, 10));
    await waitForExe(child.pid ?? 0, '/usr/bin/sleep');
    const s = accepted[before];
    const line = `who 0 ${s?.remoteAddress} ${s?.remotePort} ${s?.localAddress} ${s?.localPort}\n`;
    const found = [child.pid, '/usr/bin/sleep', realpathSync(process.execPath)];
    // On the loop: not within budget → EAGAIN (11), never a partial answer.
    expect(addon.requestSync(line, SYNC_WALK_COST)).toEqual([11]);
    // On the worker thread: the full walk finds it.
    const answers = await new Promise((resolve) => addon.request(line, resolve));
    expect((answers as unknown[][])[0]?.slice(0, 3)).toEqual(found);
    // Now a recent holder: found on the loop within budget, and not with a budget of 1.
    expect(addon.requestSync(line, SYNC_WALK_COST)[0]).toEqual((answers as unknown[])[0]);
    expect(addon.requestSync(line, 1)).toEqual([11]);
    // A lookup needs no walk: answered on the loop whatever the budget.
    expect(addon.requestSync(line.replace('who', 'lookup'), 0)).toEqual([[expect.any(Number), 0]]);
  });

  test('a recent holder is found whether or not the socket sits on the descriptor it used last', async () => {
    const addon = createRequire(import.meta.url)(NATIVE_CALLER_ADDON) as RawAddon;
    const port = (server.address() as AddressInfo).port;
    const before = accepted.length;
    // fd 3 first; on "go", a second connection on fd 4 (fd 3 stays open) and an exec.
    const child = spawn('/usr/bin/bash', [
      '-c',
      `exec 3<>/dev/tcp/127.0.0.1/${port}; read -r line; exec 4<>/dev/tcp/127.0.0.1/${port}; exec /usr/bin/sleep 30`,
    ]);
    children.push(child);
    const lineOf = (s: Socket | undefined): string =>
      `who 0 ${s?.remoteAddress} ${s?.remotePort} ${s?.localAddress} ${s?.localPort}\n`;
    // The caller, its exe and its nearest ancestor (this test runner; its own ancestors vary).
    const head = (answer: unknown): unknown => (answer as unknown[]).slice(0, 3);
    const ask = (s: Socket | undefined): Promise<unknown> =>
      new Promise((resolve) => addon.request(lineOf(s), (a) => resolve(head(a[0]))));
    const askSync = (s: Socket | undefined): unknown =>
      head(addon.requestSync(lineOf(s), SYNC_WALK_COST)[0]);
    while (accepted.length === before) await new Promise((r) => setTimeout(r, 10));
    const first = accepted[before];
    expect(await ask(first)).toEqual([child.pid, '/usr/bin/bash', realpathSync(process.execPath)]);
    child.stdin.write('go\n');
    while (accepted.length === before + 1) await new Promise((r) => setTimeout(r, 10));
    await waitForExe(child.pid ?? 0, '/usr/bin/sleep');
    const second = accepted[before + 1];
    const now = [child.pid, '/usr/bin/sleep', realpathSync(process.execPath)];
    // The last descriptor (3) holds the other socket: the second is found past it, on 4.
    expect(askSync(second)).toEqual(now);
    expect(await ask(second)).toEqual(now);
    // And the first, on the loop and on the worker thread: the exec is seen either way.
    expect(askSync(first)).toEqual(now);
    expect(await ask(first)).toEqual(now);
  });

  test('a missing addon → no lookup, and one loud warning (the resolver reads /proc instead)', () => {
    const warnings: string[] = [];
    expect(
      loadNativeCallerLookup('/nonexistent/openshell-caller.node', (m) => warnings.push(m)),
    ).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^WARNING: .*openshell-caller\.node did not load/);
  });

  test.for([
    ['not a shared object', 'this is text\n'],
    ['a module without request()', 'module.exports = { other: 1 };\n'],
  ] as const)('a file that is %s → no lookup, and one warning', ([, content]) => {
    const dir = mkdtempSync(join(tmpdir(), 'caller-addon-'));
    try {
      const file = join(dir, content.startsWith('module') ? 'fake.js' : 'fake.node');
      writeFileSync(file, content);
      const warnings: string[] = [];
      expect(loadNativeCallerLookup(file, (m) => warnings.push(m))).toBeNull();
      expect(warnings).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('after close(), queries answer "unavailable" (positive control: before, they are found)', async () => {
    const own = loadNativeCallerLookup(NATIVE_CALLER_ADDON, () => undefined);
    const { info } = await connection();
    expect(await own?.lookup(info)).toMatchObject({ inode: expect.any(Number) });
    own?.close();
    expect(await own?.lookup(info)).toBe('unavailable');
    expect(await own?.identify(info)).toBe('unavailable');
  });

  test('a burst of concurrent who queries from many sockets each gets its own answer', async () => {
    const conns = [];
    for (let i = 0; i < 50; i++) conns.push(await connection());
    const answers = await Promise.all(conns.map((c) => diag.identify(c.info)));
    for (const a of answers) expect(a).toMatchObject({ pid: process.pid });
    const absent = await Promise.all(
      conns.slice(0, 5).map((c) => diag.identify({ ...c.info, remotePort: 1 })),
    );
    expect(absent).toEqual([null, null, null, null, null]);
  });
});
