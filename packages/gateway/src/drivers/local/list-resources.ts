import { readdir, readFile } from 'node:fs/promises';
import type { HostResources } from '../compute-driver.js';
import { existsPath, listCgroupPids } from './cgroups.js';
import type { Lease } from './lease-store.js';
import type { HostTools } from './local-driver-options.js';
import { runCommand } from './run-command.js';
import { isSameProcess, sandboxPaths, type SandboxRecord } from './sandbox-state.js';

/**
 * Asks the host (not the record) which of a sandbox's objects exist: the netns file, both
 * veth ends, the firewall table, mounts naming its paths, its cgroups, every process in
 * them or running as its uid, its lease and its files.
 */
export async function listSandboxResources(
  tools: HostTools,
  stateDir: string,
  record: SandboxRecord,
  lease: Lease | undefined,
): Promise<HostResources> {
  const { namespace, hostInterface, sandboxInterface } = record.network;
  const netns = (await existsPath(`/run/netns/${namespace}`)) ? [namespace] : [];
  const links: string[] = [];
  const firewall: string[] = [];
  if (await existsPath(`/sys/class/net/${hostInterface}`)) links.push(hostInterface);
  if (netns.length > 0) {
    const inside = await runCommand([tools.ip, '-n', namespace, '-o', 'link', 'show']);
    if (inside.stdout.includes(`${sandboxInterface}@`)) links.push(sandboxInterface);
    const tables = await runCommand([
      tools.nsenter,
      `--net=/run/netns/${namespace}`,
      tools.nft,
      'list',
      'tables',
    ]);
    for (const line of tables.stdout.split('\n')) {
      if (line.startsWith('table ')) firewall.push(line.slice('table '.length));
    }
  }
  const paths = sandboxPaths(stateDir, record.id);
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const mounts = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter(
      (point) =>
        point.includes(namespace) ||
        point.startsWith(paths.dir) ||
        point.startsWith(paths.workspace),
    );
  const cgroups: string[] = [];
  for (const path of record.cgroups.paths) if (await existsPath(path)) cgroups.push(path);
  const pids = new Set(await listCgroupPids(cgroups));
  for (const pid of await listPidsOfUid(record.lease.uid)) pids.add(pid);
  if (record.pid !== undefined && (await isSameProcess(record.pid, record.pidStartTime))) {
    pids.add(record.pid);
  }
  const files: string[] = [];
  for (const path of [paths.dir, paths.workspace]) if (await existsPath(path)) files.push(path);
  return {
    netns,
    links,
    firewall,
    cgroups,
    mounts,
    pids: [...pids].sort((a, b) => a - b),
    leases:
      lease === undefined
        ? []
        : [`${lease.hostAddress}/${String(lease.prefixLength)} uid ${String(lease.uid)}`],
    files,
  };
}

/** Pids whose real uid is `uid` (scans /proc; a sandbox's uid is never shared). */
export async function listPidsOfUid(uid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const match = /^Uid:\s+(\d+)/m.exec(status);
    if (match?.[1] === String(uid)) pids.push(Number(entry));
  }
  return pids;
}
