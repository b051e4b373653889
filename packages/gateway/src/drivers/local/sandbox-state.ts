import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxNetwork } from '../compute-driver.js';
import type { SandboxCgroups } from './cgroups.js';
import type { Lease } from './lease-store.js';

/** What the driver persists per sandbox, so a new instance (a restarted gateway) can find it. */
export interface SandboxRecord {
  readonly version: 1;
  readonly id: string;
  /** `provisioning` until the process tree exists; a crash leaves it for delete() to clean. */
  readonly phase: 'provisioning' | 'running';
  readonly createdAt: string;
  readonly lease: Lease;
  readonly network: SandboxNetwork;
  readonly cgroups: SandboxCgroups;
  readonly sandboxDir: string;
  readonly pid?: number;
  /** /proc/<pid>/stat start time: a reused pid has a different one. */
  readonly pidStartTime?: string;
  readonly initPid?: number;
}

/** File layout of one sandbox under the driver's state dir. */
export function sandboxPaths(stateDir: string, id: string) {
  const dir = join(stateDir, 'sandboxes', id);
  return {
    dir,
    record: join(dir, 'state.json'),
    log: join(dir, 'agent.log'),
    status: join(dir, 'status.jsonl'),
    args: join(dir, 'bwrap.args'),
    passwd: join(dir, 'passwd'),
    group: join(dir, 'group'),
    hostSetup: join(dir, 'host.ip'),
    ruleset: join(dir, 'ruleset.nft'),
    sandboxSetup: join(dir, 'sandbox.ip'),
    workspace: join(stateDir, 'workspaces', id),
  };
}

/** Writes the record atomically (write + rename), so readers never see half a file. */
export async function writeRecord(file: string, record: SandboxRecord): Promise<void> {
  await writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/** The record, or undefined when the sandbox has none. */
export async function readRecord(file: string): Promise<SandboxRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as SandboxRecord;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cause;
  }
}

/** Start time (clock ticks after boot) of a live, non-zombie process; undefined otherwise. */
export async function readStartTime(pid: number): Promise<string | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${String(pid)}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // proc(5): the command name (field 2) may contain spaces and parentheses; fields after the
  // last ")" are fixed: state is field 3, starttime field 22.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  return rest[19];
}

/** True when `pid` is still the process that was recorded (same start time, not a zombie). */
export async function isSameProcess(pid: number | undefined, startTime: string | undefined) {
  if (pid === undefined || startTime === undefined) return false;
  return (await readStartTime(pid)) === startTime;
}

/** The agent's exit code from bubblewrap's `--json-status-fd` log, if it was written. */
export async function readExitCode(statusFile: string): Promise<number | null> {
  const text = await readFile(statusFile, 'utf8').catch(() => '');
  for (const line of text.split('\n').reverse()) {
    if (!line.includes('exit-code')) continue;
    const parsed = JSON.parse(line) as { 'exit-code'?: unknown };
    if (typeof parsed['exit-code'] === 'number') return parsed['exit-code'];
  }
  return null;
}
