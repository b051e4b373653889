import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { CallerIdentity, SocketInfo } from './caller-resolver.js';
import type { SocketEntry } from './proc-net-tcp.js';

/** `native/build/openshell-sock-diag`, from src/ or dist/ alike. */
export const SOCK_DIAG_HELPER = fileURLToPath(
  new URL('../../native/build/openshell-sock-diag', import.meta.url),
);

/** ENOENT from the helper: the kernel has no such socket (an answer, not a failure). */
const NO_SUCH_SOCKET = 2;
/** The words of an answer that could not be obtained (EIO): the resolver falls back to /proc. */
const UNAVAILABLE: readonly string[] = ['-', '5'];

/**
 * Found, not found (null), or `unavailable`: the helper could not answer (not running,
 * no permission to enter the namespace, …) and the caller should read /proc instead.
 */
export type SockDiagAnswer = SocketEntry | null | 'unavailable';

/**
 * The caller behind a connection, found entirely by the helper (socket, holders, exe and
 * ancestors: native/src/find-caller.h); null when unknown or ambiguous; `unavailable` as
 * for a lookup.
 */
export type SockDiagCaller = CallerIdentity | null | 'unavailable';

export interface SockDiagLookup {
  lookup(info: SocketInfo): Promise<SockDiagAnswer>;
  identify(info: SocketInfo): Promise<SockDiagCaller>;
  close(): void;
}

/** One answer line, split into words. */
type Settle = (words: readonly string[]) => void;

/** `<inode> <uid>` or `- <errno>` (the words after the id). */
function toLookupAnswer(words: readonly string[]): SockDiagAnswer {
  const [inode, rest] = words;
  if (inode !== undefined && inode !== '-') return { inode: Number(inode), uid: Number(rest) };
  return Number(rest) === NO_SUCH_SOCKET ? null : 'unavailable';
}

/** `= <pid> <exe> <ancestor>...` (hex paths), `x <why>`, or `- <errno>`. */
function toCaller(words: readonly string[]): SockDiagCaller {
  const [kind, first, ...paths] = words;
  if (kind === '-') return Number(first) === NO_SUCH_SOCKET ? null : 'unavailable';
  if (kind !== '=') return null;
  const [exe, ...ancestors] = paths.map((hex) => Buffer.from(hex, 'hex').toString('utf8'));
  const pid = Number(first);
  // A malformed answer is not an identity: fail closed.
  if (exe === undefined || !Number.isSafeInteger(pid) || pid <= 0) return null;
  return { pid, exe, ancestors };
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
 * const caller = await diag?.identify(info); // { pid, exe, ancestors } | null | 'unavailable'
 */
export function startSockDiagLookup(
  path: string,
  warn: (message: string) => void,
): SockDiagLookup | null {
  if (!existsSync(path)) return null;
  let child: ChildProcessWithoutNullStreams | null = spawn(path, [], { stdio: 'pipe' });
  const pending = new Map<number, Settle>();
  let nextId = 1;
  let buffered = '';
  const fail = (why: string): void => {
    if (child === null) return;
    warn(`socket lookup helper ${path} stopped (${why}); identifying callers from /proc instead`);
    child.kill('SIGKILL');
    child = null;
    for (const settle of pending.values()) settle(UNAVAILABLE);
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
      const [id, ...words] = buffered.slice(0, newline).split(' ');
      buffered = buffered.slice(newline + 1);
      const settle = pending.get(Number(id));
      if (!settle) continue;
      pending.delete(Number(id));
      settle(words);
    }
  });
  // The helper must never keep the proxy's process alive on its own.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr])
    (stream as unknown as Socket).unref();
  /** Sends one request; resolves with the answer's words (`- <errno>` when it cannot be sent). */
  const ask = (verb: string, info: SocketInfo): Promise<readonly string[]> => {
    const local = unmapped(info.remoteAddress);
    const remote = unmapped(info.localAddress);
    if (child === null || local.includes(':') !== remote.includes(':'))
      return Promise.resolve(UNAVAILABLE);
    const id = nextId++;
    const line = `${id}${verb} ${info.netnsPid ?? 0} ${local} ${info.remotePort} ${remote} ${info.localPort}\n`;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      child?.stdin.write(line);
    });
  };
  return {
    lookup: (info) => ask('', info).then(toLookupAnswer),
    identify: (info) => ask(' who', info).then(toCaller),
    close() {
      if (child === null) return;
      const c = child;
      child = null;
      c.kill('SIGKILL');
      for (const settle of pending.values()) settle(UNAVAILABLE);
      pending.clear();
    },
  };
}
