import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CGROUP_ROOT, type DriverFixture } from './driver-fixture.js';

const run = promisify(execFile);

/**
 * Everything on the host that belongs to a fixture's driver, listed with the host's own
 * tools rather than the driver's code: `ip netns`, `ip link` (host and inside each netns),
 * `nft`, mountinfo, cgroup directories, `ps`, the lease file and the state dir. Filtering
 * by the fixture's name prefix, cgroup parent and uid range keeps parallel test files out.
 */
export async function listHostObjects(fixture: DriverFixture): Promise<Record<string, string[]>> {
  const { namePrefix, cgroupParent, stateDir } = fixture.options;
  const netns = (await run('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${namePrefix}-`));
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .map((line) => (line.split(': ')[1] ?? '').split('@')[0] ?? '')
    .filter((name) => name.startsWith(`${namePrefix}h`) || name.startsWith(`${namePrefix}s`));
  const firewall: string[] = [];
  for (const name of netns) {
    const inner = await run('ip', ['-n', name, '-o', 'link', 'show']);
    for (const line of inner.stdout.split('\n')) {
      const link = (line.split(': ')[1] ?? '').split('@')[0];
      if (link) links.push(`${name}/${link}`);
    }
    const tables = await run('nsenter', [`--net=/run/netns/${name}`, 'nft', 'list', 'tables']);
    firewall.push(
      ...tables.stdout
        .trim()
        .split('\n')
        .map((table) => `${name}/${table}`),
    );
  }
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`/run/netns/${namePrefix}-`) || point.startsWith(stateDir));
  const cgroups: string[] = [];
  for (const hierarchy of await readdir(CGROUP_ROOT)) {
    const parent = join(CGROUP_ROOT, hierarchy, cgroupParent);
    const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isDirectory()) cgroups.push(join(parent, entry.name));
  }
  const [low, high] = fixture.uidRange;
  const processes = (await run('ps', ['-e', '-o', 'pid=,uid=,comm='])).stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, uid]) => Number(uid) >= low && Number(uid) < high)
    .map((fields) => fields.join(' '));
  const leaseText = await readFile(join(stateDir, 'leases.json'), 'utf8').catch(
    () => '{"leases":{}}',
  );
  const leases = Object.keys((JSON.parse(leaseText) as { leases: object }).leases);
  const files = [
    ...(await readdir(join(stateDir, 'sandboxes'))).map((name) => `sandboxes/${name}`),
    ...(await readdir(join(stateDir, 'workspaces'))).map((name) => `workspaces/${name}`),
  ];
  return { netns, links, firewall, mounts, cgroups, processes, leases, files };
}
