import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { IdentityAnswer, IdentityQuery } from '@openshell/proto';

export interface IdentifyOptions {
  /** Where procfs is mounted; default /proc. */
  readonly procRoot?: string;
  /**
   * The agent's own pid: the walk up the ancestors stops below it. Every process in the
   * sandbox descends from the agent, so listing it (and its parents) would let a policy
   * naming the agent's interpreter (`node`) match every binary in the sandbox.
   */
  readonly agentPid: number;
  /** The agent's own helpers (the pty helper); the walk stops at them like at the agent. */
  readonly internalExecutables?: ReadonlySet<string>;
}

/** Enough hops for any real process tree; a cycle (pid reuse mid-walk) cannot loop forever. */
const MAX_ANCESTORS = 64;
/** /proc/net/tcp{,6} columns: `sl local_address rem_address st ... uid timeout inode`. */
const LOCAL_ADDRESS_COLUMN = 1;
const INODE_COLUMN = 9;

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // A missing table (no IPv6) or a process that exited mid-scan: nothing to learn there.
    return '';
  }
}

/** Socket inodes bound to `port` locally, from the agent's network namespace's TCP tables. */
function findInodesByLocalPort(procRoot: string, port: number): Set<number> {
  const inodes = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    const lines = readOrEmpty(`${procRoot}/net/${table}`).split('\n').slice(1);
    for (const line of lines) {
      const columns = line.trim().split(/\s+/);
      const local = columns[LOCAL_ADDRESS_COLUMN];
      const inode = Number(columns[INODE_COLUMN]);
      if (local === undefined || !Number.isSafeInteger(inode) || inode === 0) continue;
      const hexPort = local.slice(local.lastIndexOf(':') + 1);
      if (Number.parseInt(hexPort, 16) === port) inodes.add(inode);
    }
  }
  return inodes;
}

function listPids(procRoot: string): number[] {
  return readdirSync(procRoot)
    .filter((name) => /^[0-9]+$/.test(name))
    .map(Number);
}

/** Processes (thread-group leaders) holding an fd on any of `inodes`. */
function findOwners(procRoot: string, inodes: ReadonlySet<number>): Set<number> {
  const owners = new Set<number>();
  for (const pid of listPids(procRoot)) {
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${pid}/fd`);
    } catch {
      // Exited, or not ours to inspect (EACCES): it cannot be proven to own the socket.
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
      } catch {
        continue; // closed between readdir and readlink
      }
      const match = /^socket:\[([0-9]+)\]$/.exec(target);
      if (match !== null && inodes.has(Number(match[1]))) owners.add(pid);
    }
  }
  return owners;
}

function readExe(procRoot: string, pid: number): string | undefined {
  try {
    return readlinkSync(`${procRoot}/${pid}/exe`);
  } catch {
    return undefined;
  }
}

function readParentPid(procRoot: string, pid: number): number | undefined {
  const match = /^PPid:\s+([0-9]+)$/m.exec(readOrEmpty(`${procRoot}/${pid}/status`));
  return match === null ? undefined : Number(match[1]);
}

/** Executables of `pid`'s ancestors, nearest first, stopping below the agent and at init. */
function listAncestors(
  procRoot: string,
  pid: number,
  agentPid: number,
  internal: ReadonlySet<string>,
): string[] {
  const ancestors: string[] = [];
  let current = readParentPid(procRoot, pid);
  while (
    current !== undefined &&
    current > 1 &&
    current !== agentPid &&
    ancestors.length < MAX_ANCESTORS
  ) {
    const exe = readExe(procRoot, current);
    // An unreadable ancestor ends the walk: listing fewer ancestors can only make a policy
    // match less, never more.
    if (exe === undefined) break;
    if (internal.has(exe)) break;
    ancestors.push(exe);
    current = readParentPid(procRoot, current);
  }
  return ancestors;
}

/**
 * Answers which process owns a connection (DESIGN §4), by socket inode or by local TCP
 * port: socket inode → the one process holding it → `/proc/<pid>/exe` and its ancestors'.
 * Never argv. A socket held by several processes (inherited across fork) or by none is
 * `found: false`, so the proxy denies rather than guesses.
 */
export function identifySocketOwner(
  query: IdentityQuery,
  options: IdentifyOptions,
): IdentityAnswer {
  const procRoot = options.procRoot ?? '/proc';
  const notFound: IdentityAnswer = { queryId: query.queryId, found: false, ancestors: [] };
  const key = query.key;
  if (key === undefined) return notFound;
  const inodes =
    key.$case === 'socketInode' ? new Set([key.value]) : findInodesByLocalPort(procRoot, key.value);
  if (inodes.size === 0) return notFound;
  const owners = [...findOwners(procRoot, inodes)];
  const [pid] = owners;
  if (owners.length !== 1 || pid === undefined) return notFound;
  const binary = readExe(procRoot, pid);
  if (binary === undefined) return notFound;
  return {
    queryId: query.queryId,
    found: true,
    pid,
    binary,
    ancestors: listAncestors(
      procRoot,
      pid,
      options.agentPid,
      options.internalExecutables ?? new Set(),
    ),
  };
}
