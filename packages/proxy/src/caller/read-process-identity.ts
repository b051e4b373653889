import { readFileSync } from 'node:fs';
import { tryReadlink } from './find-socket-holders.js';

/** Longest ancestor chain followed (OpenShell uses the same bound). */
const MAX_ANCESTORS = 64;

/** Fields read from /proc for one candidate caller. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly exe: string;
  readonly ancestors: readonly string[];
}

/** `/proc/<pid>/exe` without the ` (deleted)` suffix the kernel adds for a replaced binary. */
function readExe(procRoot: string, pid: number): string | null {
  const exe = tryReadlink(`${procRoot}/${pid}/exe`);
  if (exe === null) return null;
  return exe.endsWith(' (deleted)') ? exe.slice(0, -' (deleted)'.length) : exe;
}

function readParentPid(procRoot: string, pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
  } catch {
    // Exited: the chain ends here.
    return null;
  }
  // comm (field 2) may contain spaces and parentheses; fields after the last ')' are fixed.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(rest[1]);
  return Number.isSafeInteger(ppid) ? ppid : null;
}

/** Real uid from `/proc/<pid>/status` (`Uid:` real effective saved fs), or null if gone. */
function readRealUid(procRoot: string, pid: number): number | null {
  let status: string;
  try {
    status = readFileSync(`${procRoot}/${pid}/status`, 'latin1');
  } catch {
    // Exited: no uid to compare, which ends the walk.
    return null;
  }
  const match = /^Uid:\s+(\d+)/m.exec(status);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/**
 * Reads the identity of `pid`. The caller re-reads the socket descriptor afterwards
 * (`stillHolds`): if it no longer points to the socket, the pid may have been reused
 * between the scan and now, and the answer is discarded.
 *
 * The ancestor walk stops at the caller's PID-namespace boundary, so a sandboxed process
 * never inherits the host's supervisors (gateway, shell) as "ancestors" a policy could
 * match. It also stops at the first ancestor running under another real uid: inside a
 * sandbox every process of the agent's user shares one uid (no_new_privs and empty
 * capability sets mean it cannot change), while the sandbox-agent (node, root) and
 * bubblewrap's init sit above them. Without this stop, a policy listing `/usr/bin/node`
 * for the agent's own runtime would match every process in the sandbox through the
 * supervising agent.
 */
export function readProcessIdentity(procRoot: string, pid: number): ProcessIdentity | null {
  const exe = readExe(procRoot, pid);
  if (exe === null) return null;
  const pidNs = tryReadlink(`${procRoot}/${pid}/ns/pid`);
  const uid = readRealUid(procRoot, pid);
  if (uid === null) return null;
  const ancestors: string[] = [];
  let current = readParentPid(procRoot, pid);
  while (current !== null && current > 1 && ancestors.length < MAX_ANCESTORS) {
    if (tryReadlink(`${procRoot}/${current}/ns/pid`) !== pidNs) break;
    if (readRealUid(procRoot, current) !== uid) break;
    const ancestorExe = readExe(procRoot, current);
    if (ancestorExe === null) break;
    ancestors.push(ancestorExe);
    current = readParentPid(procRoot, current);
  }
  return { pid, exe, ancestors };
}
