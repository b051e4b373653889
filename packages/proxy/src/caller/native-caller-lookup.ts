import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { CallerIdentity, SocketInfo } from './caller-resolver.js';
import type { SocketEntry } from './proc-net-tcp.js';

/** `native/build/openshell-caller.node`, from src/ or dist/ alike. */
export const NATIVE_CALLER_ADDON = fileURLToPath(
  new URL('../../native/build/openshell-caller.node', import.meta.url),
);

/** ENOENT from the addon: the kernel has no such socket (an answer, not a failure). */
const NO_SUCH_SOCKET = 2;
/** EIO: what every request is answered with when the addon cannot be asked. */
const UNAVAILABLE = 5;
/** EAGAIN: the bounded walk on the event loop did not finish; ask on a worker thread. */
const AGAIN = 11;
/**
 * Procfs syscalls a walk may make on the event loop's thread (a typical caller takes 60–80:
 * the socket, the recent holder's descriptors, its threads' children, exe and ancestors).
 * On this budget the loop is held for well under a millisecond even on a loaded host.
 */
export const SYNC_WALK_COST = 400;

/**
 * Found, not found (null), or `unavailable`: the addon could not answer (no permission to
 * enter the namespace, a malformed address, …) and the caller should read /proc instead.
 */
export type SocketAnswer = SocketEntry | null | 'unavailable';

/**
 * The caller behind a connection, found entirely by the addon (socket, holders, exe and
 * ancestors: native/src/find-caller.h); null when unknown or ambiguous; `unavailable` as
 * for a lookup.
 */
export type CallerAnswer = CallerIdentity | null | 'unavailable';

export interface NativeCallerLookup {
  lookup(info: SocketInfo): Promise<SocketAnswer>;
  identify(info: SocketInfo): Promise<CallerAnswer>;
  close(): void;
}

/** The addon's whole surface (native/src/caller-addon.c documents the answers). */
interface CallerAddon {
  request(lines: string, done: (answers: readonly unknown[]) => void): void;
  requestSync(lines: string, cost: number): readonly unknown[];
}

interface Pending {
  readonly line: string;
  readonly settle: (answer: unknown) => void;
}

function isCallerAddon(value: unknown): value is CallerAddon {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { request?: unknown }).request === 'function' &&
    typeof (value as { requestSync?: unknown }).requestSync === 'function'
  );
}

/** An errno answer: ENOENT is "no such socket"; anything else means "ask /proc instead". */
function fromErrno(answer: unknown): null | 'unavailable' {
  return answer === NO_SUCH_SOCKET ? null : 'unavailable';
}

/** `[inode, uid]` or an errno. */
function toSocketAnswer(answer: unknown): SocketAnswer {
  if (!Array.isArray(answer)) return fromErrno(answer);
  const [inode, uid] = answer as unknown[];
  if (typeof inode !== 'number' || typeof uid !== 'number') return 'unavailable';
  return { inode, uid };
}

/** `[pid, exe, ancestor…]`, `none`, `ambiguous`, or an errno. */
function toCallerAnswer(answer: unknown): CallerAnswer {
  if (typeof answer === 'string') return null;
  if (!Array.isArray(answer)) return fromErrno(answer);
  const [pid, exe, ...ancestors] = answer as unknown[];
  // A malformed answer is not an identity: fail closed.
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return null;
  if (typeof exe !== 'string' || !ancestors.every((a): a is string => typeof a === 'string'))
    return null;
  return { pid, exe, ancestors };
}

/** `::ffff:a.b.c.d` → `a.b.c.d`: a v4 client on a dual-stack listener owns an AF_INET socket. */
function unmapped(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

/**
 * Loads the caller addon (native/src/caller-addon.c) and returns a client for it, or null
 * with a warning when it is missing or does not load (then the resolver walks /proc in JS).
 * When nothing is pending, a request is first answered on the spot by a walk bounded to
 * `syncCost` procfs syscalls (no thread hop: measured faster on a loaded host); what that
 * walk cannot finish goes to a worker thread (always, with `syncCost` 0). Requests made
 * while a batch runs there are sent together as the next batch, which shares one walk of
 * /proc; one batch runs at a time.
 *
 * @example
 * const native = loadNativeCallerLookup(NATIVE_CALLER_ADDON, warn);
 * const entry = await native?.lookup(info); // { inode, uid } | null | 'unavailable'
 * const caller = await native?.identify(info); // { pid, exe, ancestors } | null | 'unavailable'
 */
export function loadNativeCallerLookup(
  path: string,
  warn: (message: string) => void,
  syncCost: number = SYNC_WALK_COST,
): NativeCallerLookup | null {
  let addon: CallerAddon;
  try {
    const loaded: unknown = createRequire(import.meta.url)(path);
    if (!isCallerAddon(loaded)) throw new Error('it exports no request() and requestSync()');
    addon = loaded;
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    warn(
      `WARNING: the caller identification addon ${path} did not load (${why}); identifying callers from /proc in JS instead, which is several times slower. Build it with "pnpm --filter @openshell/proxy build".`,
    );
    return null;
  }
  let queue: Pending[] = [];
  let running = false;
  let closed = false;

  const send = (): void => {
    const batch = queue;
    queue = [];
    running = true;
    const finish = (answers: readonly unknown[]): void => {
      running = false;
      batch.forEach((p, i) => p.settle(answers.length === batch.length ? answers[i] : UNAVAILABLE));
      if (queue.length > 0) send();
    };
    try {
      addon.request(batch.map((p) => p.line).join(''), finish);
    } catch {
      finish([]);
    }
  };

  const ask = (verb: 'who' | 'lookup', info: SocketInfo): Promise<unknown> => {
    const local = unmapped(info.remoteAddress);
    const remote = unmapped(info.localAddress);
    // Addresses come from accepted sockets; anything that could split a line is refused.
    if (closed || /\s/.test(local + remote) || local.includes(':') !== remote.includes(':'))
      return Promise.resolve(UNAVAILABLE);
    const line = `${verb} ${info.netnsPid ?? 0} ${local} ${info.remotePort} ${remote} ${info.localPort}\n`;
    if (syncCost > 0 && !running && queue.length === 0) {
      let answer: unknown = AGAIN;
      try {
        answer = addon.requestSync(line, syncCost)[0];
      } catch {
        // Asked again on a worker thread below.
      }
      if (answer !== AGAIN) return Promise.resolve(answer);
    }
    return new Promise((settle) => {
      queue.push({ line, settle });
      if (!running) send();
    });
  };

  return {
    lookup: (info) => ask('lookup', info).then(toSocketAnswer),
    identify: (info) => ask('who', info).then(toCallerAnswer),
    close() {
      closed = true;
      for (const p of queue) p.settle(UNAVAILABLE);
      queue = [];
    },
  };
}
