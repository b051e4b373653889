import { closeSync, openSync, readSync } from 'node:fs';
import type { CallerIdentity, CallerResolver, SocketInfo } from './caller-resolver.js';
import { findSocketHolders, stillHolds, type ScanMemory } from './find-socket-holders.js';
import { encodeSocketKeys, findInodes, type SocketEntry, type SocketKeys } from './proc-net-tcp.js';
import { readProcessIdentity, type ProcessIdentity } from './read-process-identity.js';
import {
  NATIVE_CALLER_ADDON,
  SYNC_WALK_COST,
  loadNativeCallerLookup,
} from './native-caller-lookup.js';

export interface ProcCallerResolverOptions {
  /** Mount point of procfs; `/proc` on a normal host. */
  readonly procRoot?: string;
  /**
   * How callers are identified: `native` (default) by the in-process addon, which finds
   * the socket by its exact 4-tuple and then its holders and their executables in /proc,
   * on a worker thread; the JS walk does the same from the tables and /proc when the addon
   * is missing or cannot answer. `proc`: always the JS walk, from /proc/<pid>/net/tcp{,6}.
   */
  readonly socketLookup?: 'native' | 'proc';
  /** Path of the caller addon (default: the package's native/build/openshell-caller.node). */
  readonly addonPath?: string;
  /**
   * Procfs syscalls the addon may spend on the event loop's thread before it hands a
   * lookup to a worker thread (default SYNC_WALK_COST; 0: always a worker thread).
   */
  readonly syncWalkCost?: number;
  /** Where an addon failure is reported (default: stderr). */
  readonly warn?: (message: string) => void;
}

interface Pending {
  readonly info: SocketInfo;
  readonly keys: SocketKeys | null;
  readonly settle: (identity: CallerIdentity | null) => void;
}

/**
 * Reads a procfs table with large reads: reading a size-0 proc file in small chunks makes
 * the kernel walk the socket table again from the start for every chunk. Synchronous:
 * through the thread pool the same read took ten times longer.
 */
function readTable(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    // No such netns process any more (or no IPv6): the socket cannot be found there.
    return '';
  }
  try {
    const chunks: Buffer[] = [];
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
    }
    return Buffer.concat(chunks).toString('latin1');
  } catch {
    // The process exited mid-read: same as not found.
    return '';
  } finally {
    closeSync(fd);
  }
}

/**
 * Several processes may hold one socket (fork inherits descriptors, SCM_RIGHTS passes
 * them). Different executables → ambiguous → deny. Same executable at several depths →
 * the holder with the fewest ancestors, so nobody gains a grant from a deeper chain.
 */
function pickIdentity(identities: readonly ProcessIdentity[]): CallerIdentity | null {
  const first = identities[0];
  if (!first) return null;
  if (identities.some((i) => i.exe !== first.exe)) return null;
  return identities.reduce((best, i) => (i.ancestors.length < best.ancestors.length ? i : best));
}

/**
 * Host implementation of CallerResolver: socket 4-tuple → inode and creating uid → holders
 * (scan of /proc/<pid>/fd) → /proc/<pid>/exe and ancestors via PPid. Never the command
 * line, which the caller controls.
 *
 * Normally the in-process addon does all of it (an exact NETLINK_SOCK_DIAG lookup in the
 * client's netns, then native/src/find-caller.h) on a libuv worker thread: procfs syscalls
 * from C cost a fraction of what they cost through Node, and the event loop never waits on
 * procfs. Nothing about a caller is cached between connections.
 *
 * The fallback here (no addon, or `socketLookup: 'proc'`) applies the same rules and is
 * batched: connections pending together share one read of each tcp table and one walk of
 * /proc, so a burst of 1,000 connections costs a handful of walks rather than 1,000.
 *
 * @example
 * const resolver = createProcCallerResolver();
 * const who = await resolver.resolve({ sandboxId, remoteAddress, remotePort, localAddress, localPort });
 */
export function createProcCallerResolver(options: ProcCallerResolverOptions = {}): CallerResolver {
  const procRoot = options.procRoot ?? '/proc';
  const warn =
    options.warn ?? ((message: string) => process.stderr.write(`openshell-proxy: ${message}\n`));
  // The addon reads the real /proc for namespaces, so it only serves the real /proc. A
  // missing or broken addon is reported (loudly, once) by the loader.
  const diag =
    (options.socketLookup ?? 'native') === 'native' && procRoot === '/proc'
      ? loadNativeCallerLookup(
          options.addonPath ?? NATIVE_CALLER_ADDON,
          warn,
          options.syncWalkCost ?? SYNC_WALK_COST,
        )
      : null;
  let queue: Pending[] = [];
  let running = false;
  const memory: ScanMemory = { unreadable: new Set(), recent: [] };

  /** Socket table entries from /proc/<pid>/net/tcp{,6}, for clients the addon could not look up. */
  function entriesFromTables(batch: readonly Pending[]): Map<Pending, SocketEntry> {
    const tableOf = (p: Pending): string => `${procRoot}/${p.info.netnsPid ?? 'self'}/net`;
    const byTable = new Map<string, Pending[]>();
    for (const p of batch) {
      if (!p.keys) continue;
      const dir = tableOf(p);
      byTable.set(dir, [...(byTable.get(dir) ?? []), p]);
    }
    const inodeOf = new Map<string, SocketEntry>();
    for (const [dir, pendings] of byTable) {
      const v4 = new Set(pendings.flatMap((p) => (p.keys?.tcp ? [p.keys.tcp] : [])));
      for (const [key, entry] of findInodes(readTable(`${dir}/tcp`), v4))
        inodeOf.set(`${dir} ${key}`, entry);
      // Each table read costs the kernel a walk of every socket in the netns, so tcp6 is
      // read only for clients not found in tcp (IPv6 peers, or IPv4 on an AF_INET6 socket).
      const v6 = new Set(
        pendings.flatMap((p) =>
          p.keys?.tcp6 && !(p.keys.tcp && inodeOf.has(`${dir} ${p.keys.tcp}`)) ? [p.keys.tcp6] : [],
        ),
      );
      if (v6.size > 0) {
        for (const [key, entry] of findInodes(readTable(`${dir}/tcp6`), v6))
          inodeOf.set(`${dir} ${key}`, entry);
      }
    }
    const entries = new Map<Pending, SocketEntry>();
    for (const p of batch) {
      const dir = tableOf(p);
      const entry =
        (p.keys?.tcp ? inodeOf.get(`${dir} ${p.keys.tcp}`) : undefined) ??
        (p.keys?.tcp6 ? inodeOf.get(`${dir} ${p.keys.tcp6}`) : undefined);
      if (entry !== undefined) entries.set(p, entry);
    }
    return entries;
  }

  async function runBatch(batch: readonly Pending[]): Promise<void> {
    const entries = entriesFromTables(batch);
    const inodes = new Map<Pending, number>();
    const uids = new Set<number>();
    for (const [p, entry] of entries) {
      inodes.set(p, entry.inode);
      uids.add(entry.uid);
    }
    const holders = await findSocketHolders(
      procRoot,
      { inodes: new Set(inodes.values()), uids },
      memory,
    );
    const identityOf = new Map<number, ProcessIdentity | null>();
    const settleOne = (p: Pending): void => {
      const inode = inodes.get(p);
      if (inode === undefined) {
        p.settle(null);
        return;
      }
      const identities: ProcessIdentity[] = [];
      for (const holder of holders.get(inode) ?? []) {
        // One identity read per process per batch (a client with many sockets is read once),
        // but the descriptor is re-checked for every socket.
        let identity = identityOf.get(holder.pid);
        if (identity === undefined) {
          identity = readProcessIdentity(procRoot, holder.pid);
          identityOf.set(holder.pid, identity);
        }
        if (identity && stillHolds(procRoot, holder, inode)) identities.push(identity);
      }
      p.settle(pickIdentity(identities));
    };
    for (const p of batch) settleOne(p);
  }

  /**
   * One batch at a time: connections that arrive while a walk runs wait for the next
   * one, so under load each walk serves many connections (and the event loop never
   * blocks on procfs).
   */
  function startBatch(): void {
    running = true;
    const batch = queue;
    queue = [];
    runBatch(batch)
      .catch(() => {
        // An unexpected procfs layout must not leave connections hanging: the batch is
        // answered "unknown", which the proxy turns into a deny. Settling twice is a no-op.
        for (const p of batch) p.settle(null);
      })
      .finally(() => {
        running = false;
        if (queue.length > 0) startBatch();
      });
  }

  /** The /proc walk in JS, for what the addon cannot answer. */
  function resolveHere(info: SocketInfo): Promise<CallerIdentity | null> {
    return new Promise((settle) => {
      const keys = encodeSocketKeys(
        info.remoteAddress,
        info.remotePort,
        info.localAddress,
        info.localPort,
      );
      queue.push({ info, keys, settle });
      // Deferred one turn so connections accepted together share the first walk.
      if (!running && queue.length === 1) {
        setImmediate(() => {
          if (!running && queue.length > 0) startBatch();
        });
      }
    });
  }

  return {
    resolve(info: SocketInfo): Promise<CallerIdentity | null> {
      if (!diag) return resolveHere(info);
      // One request: the addon finds the socket, its holders and their identity.
      return diag
        .identify(info)
        .then((answer) => (answer === 'unavailable' ? resolveHere(info) : answer));
    },
    close() {
      diag?.close();
    },
  };
}
