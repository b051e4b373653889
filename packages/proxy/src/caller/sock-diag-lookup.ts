import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { SocketInfo } from './caller-resolver.js';
import type { SocketEntry } from './proc-net-tcp.js';

/** `native/build/openshell-sock-diag`, from src/ or dist/ alike. */
export const SOCK_DIAG_HELPER = fileURLToPath(
  new URL('../../native/build/openshell-sock-diag', import.meta.url),
);

/** ENOENT from the helper: the kernel has no such socket (an answer, not a failure). */
const NO_SUCH_SOCKET = 2;

/**
 * Found, not found (null), or `unavailable`: the helper could not answer (not running,
 * no permission to enter the namespace, …) and the caller should read /proc instead.
 */
export type SockDiagAnswer = SocketEntry | null | 'unavailable';

export interface SockDiagLookup {
  lookup(info: SocketInfo): Promise<SockDiagAnswer>;
  close(): void;
}

/** `::ffff:a.b.c.d` → `a.b.c.d`: a v4 client on a dual-stack listener owns an AF_INET socket. */
function unmapped(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

/**
 * Starts the sock_diag co-process (native/src/sock-diag.c) and returns a client for it,
 * or null when the binary is missing. Queries are pipelined; answers come back in order.
 * If the helper dies, pending and later queries answer `unavailable` (the resolver then
 * reads /proc), so a helper failure slows identification down but never changes a result.
 *
 * @example
 * const diag = startSockDiagLookup(SOCK_DIAG_HELPER, warn);
 * const entry = await diag?.lookup(info); // { inode, uid } | null | 'unavailable'
 */
export function startSockDiagLookup(
  path: string,
  warn: (message: string) => void,
): SockDiagLookup | null {
  if (!existsSync(path)) return null;
  let child: ChildProcessWithoutNullStreams | null = spawn(path, [], { stdio: 'pipe' });
  const pending = new Map<number, (answer: SockDiagAnswer) => void>();
  let nextId = 1;
  let buffered = '';
  const fail = (why: string): void => {
    if (child === null) return;
    warn(`socket lookup helper ${path} stopped (${why}); identifying callers from /proc instead`);
    child.kill('SIGKILL');
    child = null;
    for (const settle of pending.values()) settle('unavailable');
    pending.clear();
  };
  child.once('error', (error) => fail(error.message));
  child.once('exit', (code, signal) => fail(`exit ${signal ?? code ?? '?'}`));
  child.stdin.on('error', (error) => fail(error.message));
  child.stderr.on('data', (d: Buffer) => warn(`socket lookup helper: ${d.toString().trim()}`));
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const [id, inode, rest] = buffered.slice(0, newline).split(' ');
      buffered = buffered.slice(newline + 1);
      const settle = pending.get(Number(id));
      if (!settle) continue;
      pending.delete(Number(id));
      if (inode !== '-') settle({ inode: Number(inode), uid: Number(rest) });
      else settle(Number(rest) === NO_SUCH_SOCKET ? null : 'unavailable');
    }
  });
  // The helper must never keep the proxy's process alive on its own.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr])
    (stream as unknown as Socket).unref();
  return {
    lookup(info) {
      const local = unmapped(info.remoteAddress);
      const remote = unmapped(info.localAddress);
      if (child === null || local.includes(':') !== remote.includes(':'))
        return Promise.resolve('unavailable');
      const id = nextId++;
      const line = `${id} ${info.netnsPid ?? 0} ${local} ${info.remotePort} ${remote} ${info.localPort}\n`;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child?.stdin.write(line);
      });
    },
    close() {
      if (child === null) return;
      const c = child;
      child = null;
      c.kill('SIGKILL');
      for (const settle of pending.values()) settle('unavailable');
      pending.clear();
    },
  };
}
