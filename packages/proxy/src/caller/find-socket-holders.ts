import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';

// The fallback for when the native addon cannot answer (or `socketLookup: 'proc'`):
// native/src/find-caller.h applies the same rules in C, and the resolver's tests run both.

/** One process that has the wanted socket open, and on which descriptor. */
export interface SocketHolder {
  readonly pid: number;
  readonly fd: string;
}

/**
 * procfs reads are synchronous (a readlink costs a few microseconds; through libuv's
 * thread pool the same walk took 20× longer), but the walk yields to the event loop every
 * SLICE_MS so tunnels keep flowing and new connections keep being accepted meanwhile.
 */
const SLICE_MS = 2;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function tryReadlink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    // Gone, or not ours to read (EACCES on another namespace's init): treated as unknown.
    return null;
  }
}

/** True while `holder` still has the socket open on the same descriptor. */
export function stillHolds(procRoot: string, holder: SocketHolder, inode: number): boolean {
  return tryReadlink(`${procRoot}/${holder.pid}/fd/${holder.fd}`) === `socket:[${inode}]`;
}

/** What one walk looks for: socket inodes, and the uids that created them. */
export interface HolderQuery {
  readonly inodes: ReadonlySet<number>;
  readonly uids: ReadonlySet<number>;
}

/** Kept by the resolver between walks. */
export interface ScanMemory {
  /** Processes we may not inspect (`pid:starttime`, so a reused pid is looked at again). */
  readonly unreadable: Set<string>;
  /** Recent socket holders, most recent first: a client that connects once connects again. */
  recent: string[];
}

const MAX_RECENT = 32;
const MAX_RELATIVES = 256;

function statFields(procRoot: string, pid: string): string[] | null {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
    // comm (field 2) may contain spaces and parentheses; fields after the last ')' are fixed.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    // Exited.
    return null;
  }
}

function processKey(procRoot: string, pid: string): string | null {
  const fields = statFields(procRoot, pid);
  return fields ? `${pid}:${fields[19] ?? ''}` : null;
}

/** Parent and children (of every thread): where an inherited descriptor would also live. */
function relativesOf(procRoot: string, pid: string): string[] {
  const out: string[] = [];
  const parent = statFields(procRoot, pid)?.[1];
  if (parent && parent !== '0') out.push(parent);
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`${procRoot}/${pid}/task`);
  } catch {
    // Exited: no children to add.
  }
  for (const tid of tasks) {
    try {
      out.push(
        ...readFileSync(`${procRoot}/${pid}/task/${tid}/children`, 'latin1')
          .split(' ')
          .filter(Boolean),
      );
    } catch {
      // Thread gone, or a kernel without CONFIG_PROC_CHILDREN: parents are still checked.
    }
  }
  return out;
}

/** Scans `pids` (skipping ones already scanned); stops early once `enough()` holds. */
async function scan(
  procRoot: string,
  pids: readonly string[],
  query: HolderQuery,
  memory: ScanMemory,
  scanned: Set<string>,
  into: Map<number, SocketHolder[]>,
  enough: () => boolean,
): Promise<void> {
  let sliceStart = performance.now();
  for (const pid of pids) {
    if (enough()) return;
    if (scanned.has(pid)) continue;
    scanned.add(pid);
    let owner: number;
    try {
      owner = statSync(`${procRoot}/${pid}`).uid;
    } catch {
      // Exited meanwhile.
      continue;
    }
    // A socket is created by its process's uid (/proc/net/tcp "uid" column), and each
    // sandbox runs as its own host uid, so other users' processes are not walked at all.
    if (!query.uids.has(owner)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${pid}/fd`);
    } catch {
      // The process exited, or its table is not readable to us: it cannot be confirmed as a holder.
      continue;
    }
    for (const fd of fds) {
      let link: string | null;
      try {
        link = readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
      } catch (error) {
        // EACCES: a process we may not inspect (another user namespace's init). Every
        // denied readlink is slow (milliseconds on some kernels), so give up on it at once.
        if ((error as { code?: unknown }).code === 'EACCES') {
          const key = processKey(procRoot, pid);
          if (key !== null) memory.unreadable.add(key);
          break;
        }
        // ENOENT: the descriptor was closed between readdir and readlink.
        link = null;
      }
      if (link !== null && link.startsWith('socket:[')) {
        const inode = Number(link.slice(8, -1));
        if (query.inodes.has(inode)) {
          const list = into.get(inode) ?? [];
          list.push({ pid: Number(pid), fd });
          into.set(inode, list);
        }
      }
      if (performance.now() - sliceStart > SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  }
}

/**
 * Finds, for each wanted socket inode, the processes holding it:
 * 1. recent holders first, then every other process, until each inode has a holder;
 * 2. then the relatives (parent, children) of every holder found, repeatedly, because a
 *    descriptor is shared by fork inheritance — so a socket also held by a forked child
 *    running another binary is seen, and the caller is reported as ambiguous.
 * A descriptor passed to an unrelated process with SCM_RIGHTS is not looked for (it would
 * need a full walk per connection, ~100× the cost); that process then acts under the
 * sender's identity, which the sender could equally have used itself.
 *
 * The proxy's own process is walked last and only for inodes nobody else holds: it owns
 * two sockets per open tunnel (thousands under load) and is never the client in a real
 * deployment, but it is when a test or tool connects from inside the proxy's process.
 */
export async function findSocketHolders(
  procRoot: string,
  query: HolderQuery,
  memory: ScanMemory,
): Promise<Map<number, SocketHolder[]>> {
  const holders = new Map<number, SocketHolder[]>();
  if (query.inodes.size === 0) return holders;
  const self = String(process.pid);
  const scanned = new Set<string>([self]);
  const allFound = (): boolean => holders.size === query.inodes.size;
  await scan(procRoot, memory.recent, query, memory, scanned, holders, allFound);
  if (!allFound()) {
    const everyone = readdirSync(procRoot).filter((entry) => {
      const first = entry.charCodeAt(0);
      if (first < 48 || first > 57) return false;
      if (memory.unreadable.size === 0) return true;
      const key = processKey(procRoot, entry);
      return key === null || !memory.unreadable.has(key);
    });
    await scan(procRoot, everyone, query, memory, scanned, holders, allFound);
  }
  let frontier = [...new Set([...holders.values()].flat().map((h) => String(h.pid)))];
  while (frontier.length > 0 && scanned.size < MAX_RELATIVES) {
    const before = new Set([...holders.values()].flat().map((h) => String(h.pid)));
    const relatives = frontier
      .flatMap((pid) => relativesOf(procRoot, pid))
      .filter((pid) => !scanned.has(pid));
    await scan(procRoot, relatives, query, memory, scanned, holders, () => false);
    frontier = [...new Set([...holders.values()].flat().map((h) => String(h.pid)))].filter(
      (pid) => !before.has(pid),
    );
  }
  const unresolved = new Set([...query.inodes].filter((i) => !holders.has(i)));
  if (unresolved.size > 0) {
    scanned.delete(self);
    await scan(
      procRoot,
      [self],
      { inodes: unresolved, uids: query.uids },
      memory,
      scanned,
      holders,
      () => false,
    );
  }
  const found = [...new Set([...holders.values()].flat().map((h) => String(h.pid)))];
  memory.recent = [...found, ...memory.recent.filter((pid) => !found.includes(pid))].slice(
    0,
    MAX_RECENT,
  );
  return holders;
}
