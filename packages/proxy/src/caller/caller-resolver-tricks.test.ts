import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CallerIdentity, SocketInfo } from './caller-resolver.js';
import {
  createProcCallerResolver,
  type ProcCallerResolverOptions,
} from './create-proc-caller-resolver.js';
import { NATIVE_CALLER_ADDON, loadNativeCallerLookup } from './native-caller-lookup.js';

// What the resolver remembers between connections (recent holders, processes it may not
// read) only decides where it looks first; these tests make sure none of it can stand in
// for the current owner of a socket: an exec in the same pid, a reused pid, a descriptor
// handed to another process, a binary name that tries to forge a line-based protocol.

let server: Server;
let port: number;
let dir: string;
const accepted: Socket[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'caller-tricks-'));
  server = createServer((s) => accepted.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of accepted) s.destroy();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function infoOf(socket: Socket): SocketInfo {
  return {
    sandboxId: 't',
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
  };
}

/** Starts `file args` (which connects to the test server) and waits for the accepted socket. */
async function startClient(
  file: string,
  args: readonly string[],
  env: Record<string, string> = {},
  uid?: number,
): Promise<{ child: ChildProcessWithoutNullStreams; socket: Socket }> {
  const before = accepted.length;
  const child = spawn(file, args, {
    env: { ...process.env, PORT: String(port), ...env },
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  children.push(child);
  for (let i = 0; i < 250 && accepted.length === before; i++) await sleep(20);
  const socket = accepted[before];
  if (!socket) throw new Error(`${file} never connected to the test server`);
  // Let the client finish what it does after connecting (exec, fork) before we look.
  await sleep(100);
  return { child, socket };
}

/** Polls until `pid` runs `exe` (after an exec we asked for). */
async function waitForExe(pid: number, exe: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`) === exe) return;
    } catch {
      // Not there yet.
    }
    await sleep(20);
  }
  throw new Error(`process ${pid} never became ${exe}`);
}

/** Resolves on the first stdout line that contains `word`. */
function waitForLine(child: ChildProcessWithoutNullStreams, word: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(word)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before printing ${word}`)));
  });
}

/**
 * Spawns `start()` until the child gets `pid`, by setting the kernel's last-assigned pid
 * (/proc/sys/kernel/ns_last_pid, root only) just below it. Other processes on the machine
 * may take the pid first, so it retries; it fails loudly rather than test something else.
 */
async function spawnWithPid<T extends { child: ChildProcessWithoutNullStreams }>(
  pid: number,
  start: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; attempt < 30; attempt++) {
    writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
    const started = await start();
    if (started.child.pid === pid) return started;
    started.child.kill('SIGKILL');
  }
  throw new Error(`could not reuse pid ${pid} (needs root to write /proc/sys/kernel/ns_last_pid)`);
}

// A subshell connects and becomes sleep, so only sleep holds the socket and bash is its parent.
const SUBSHELL = '(exec 3<>/dev/tcp/127.0.0.1/$PORT; exec /usr/bin/sleep 30); wait';
const NOBODY = 65534;

/** The python3 interpreter's real binary (the sender; the receiver runs a copy elsewhere). */
const PYTHON = execFileSync(
  'python3',
  ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'],
  { encoding: 'utf8' },
).trim();

const CONNECT_THEN_WAIT = 'exec 3<>/dev/tcp/127.0.0.1/$PORT; read -r line';

/** The addon (bounded walk on the event loop first), the addon on a worker thread only, the JS walk. */
const MODES = {
  native: { socketLookup: 'native' },
  'native-worker': { socketLookup: 'native', syncWalkCost: 0 },
  proc: { socketLookup: 'proc' },
} as const satisfies Record<string, ProcCallerResolverOptions>;
const MODE_NAMES = Object.keys(MODES) as (keyof typeof MODES)[];

describe.for(MODE_NAMES)('caller identity is never stale (%s)', (lookup) => {
  const warnings: string[] = [];
  const warn = (m: string): void => void warnings.push(m);
  const resolver = createProcCallerResolver({ ...MODES[lookup], warn });
  // The native row must be answered by the addon itself, not by the JS fallback.
  const diag =
    lookup === 'proc'
      ? null
      : loadNativeCallerLookup(
          NATIVE_CALLER_ADDON,
          warn,
          lookup === 'native-worker' ? 0 : undefined,
        );
  afterAll(() => {
    resolver.close?.();
    diag?.close();
    expect(warnings).toEqual([]);
  });

  /** The resolver's answer; in the native row also the addon's own, which must agree. */
  async function resolveCaller(socket: Socket): Promise<CallerIdentity | null> {
    const who = await resolver.resolve(infoOf(socket));
    if (diag) expect(await diag.identify(infoOf(socket))).toEqual(who);
    return who;
  }

  test('an exec of another binary in the same pid is seen on the next lookup of the same socket', async () => {
    const { child, socket } = await startClient('/usr/bin/bash', [
      '-c',
      `${CONNECT_THEN_WAIT}; exec /usr/bin/sleep 30`,
    ]);
    // Positive control: before the exec, the holder is bash.
    expect(await resolveCaller(socket)).toMatchObject({
      pid: child.pid,
      exe: '/usr/bin/bash',
    });
    child.stdin.write('go\n');
    await waitForExe(child.pid ?? 0, '/usr/bin/sleep');
    expect(await resolveCaller(socket)).toMatchObject({
      pid: child.pid,
      exe: '/usr/bin/sleep',
    });
  });

  test('a reused pid is identified as the process that holds it now, and the dead caller as nobody', async () => {
    const first = await startClient('/usr/bin/bash', ['-c', CONNECT_THEN_WAIT]);
    const pid = first.child.pid ?? 0;
    expect(await resolveCaller(first.socket)).toMatchObject({
      pid,
      exe: '/usr/bin/bash',
    });
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    // The same pid, now running another binary over a new connection.
    const second = await spawnWithPid(pid, () =>
      startClient('/usr/bin/bash', [
        '-c',
        'exec 3<>/dev/tcp/127.0.0.1/$PORT; exec /usr/bin/sleep 30',
      ]),
    );
    await waitForExe(pid, '/usr/bin/sleep');
    expect(await resolveCaller(second.socket)).toMatchObject({
      pid,
      exe: '/usr/bin/sleep',
    });
    // The dead client's end is closing: the kernel may refuse the exact lookup (the addon
    // then says "unavailable" and the resolver reads the tables), but it is nobody's.
    expect(await resolver.resolve(infoOf(first.socket))).toBeNull();
  });

  test('a socket handed to an unrelated process (SCM_RIGHTS) and closed by the sender belongs to the receiver', async () => {
    const receiverExe = join(dir, `receiver-python-${lookup}`);
    copyFileSync(PYTHON, receiverExe);
    writeFileSync(join(dir, 'receiver.py'), RECEIVER);
    writeFileSync(join(dir, 'sender.py'), SENDER);
    const unixPath = join(dir, `pass-${lookup}.sock`);
    const receiver = spawn(receiverExe, [join(dir, 'receiver.py'), unixPath]);
    children.push(receiver);
    await waitForLine(receiver, 'listening');
    const sender = await startClient(PYTHON, [join(dir, 'sender.py'), unixPath]);
    // Positive control: the sender holds it.
    expect(await resolveCaller(sender.socket)).toMatchObject({
      pid: sender.child.pid,
      exe: PYTHON,
    });
    const passed = waitForLine(receiver, 'received');
    sender.child.stdin.write('pass\n');
    await passed;
    await waitForLine(sender.child, 'closed');
    expect(await resolveCaller(sender.socket)).toMatchObject({
      pid: receiver.pid,
      exe: receiverExe,
    });
  });

  test('a binary whose name holds a newline and protocol-like words is reported by its exact path', async () => {
    const odd = join(dir, `odd name\n1 = 1 2f7573722f62696e2f6375726c ${lookup}`);
    copyFileSync('/usr/bin/sleep', odd);
    const { socket } = await startClient(
      '/usr/bin/bash',
      ['-c', 'exec 3<>/dev/tcp/127.0.0.1/$PORT; exec "$ODD" 30'],
      { ODD: odd },
    );
    const who = await resolveCaller(socket);
    expect(who?.exe).toBe(odd);
    expect(who?.ancestors[0]).toBe(readlinkSync('/proc/self/exe'));
  });
});

// Connects to the test server, waits for "pass" on stdin, hands the socket to the receiver
// over a unix socket, closes its own descriptor and keeps running.
const SENDER = `
import os, socket, sys, time
tcp = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])))
sys.stdin.readline()
unix = socket.socket(socket.AF_UNIX)
unix.connect(sys.argv[1])
socket.send_fds(unix, [b"x"], [tcp.fileno()])
unix.recv(1)
tcp.close()
print("closed", flush=True)
time.sleep(30)
`;

const RECEIVER = `
import socket, sys, time
server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[1])
server.listen(1)
print("listening", flush=True)
conn, _ = server.accept()
msg, fds, flags, addr = socket.recv_fds(conn, 1, 1)
print("received", flush=True)
conn.send(b"k")
time.sleep(30)
`;

describe.for(MODE_NAMES)('the ancestor walk ends at the sandbox boundaries (%s)', (lookup) => {
  const resolver = createProcCallerResolver({ ...MODES[lookup], warn: () => undefined });
  afterAll(() => resolver.close?.());

  test.for([
    // Positive control: same uid, same PID namespace → bash, then this test runner and up.
    ['same uid and namespace', '/usr/bin/bash', ['-c', SUBSHELL], undefined, true],
    // The caller's uid differs from the root-owned runner above bash: the walk stops there.
    ['another uid above', '/usr/bin/bash', ['-c', SUBSHELL], NOBODY, false],
    // unshare's child is pid 1 of a new PID namespace: its parent is outside it.
    [
      'a PID namespace boundary',
      '/usr/bin/unshare',
      ['--pid', '--fork', '/usr/bin/bash', '-c', SUBSHELL],
      undefined,
      false,
    ],
  ] as const)('%s', async ([, file, args, uid, runnerIsAncestor]) => {
    const { socket } = await startClient(file, args, {}, uid);
    const who = await resolver.resolve(infoOf(socket));
    expect(who?.exe).toBe('/usr/bin/sleep');
    expect(who?.ancestors[0]).toBe('/usr/bin/bash');
    expect(who?.ancestors.includes(readlinkSync('/proc/self/exe'))).toBe(runnerIsAncestor);
    if (!runnerIsAncestor) expect(who?.ancestors).toEqual(['/usr/bin/bash']);
  });
});
