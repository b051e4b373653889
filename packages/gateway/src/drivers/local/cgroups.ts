import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenShellError } from '@openshell/policy-schema';
import type { SandboxLimits } from '../compute-driver.js';

export type LimitController = 'memory' | 'pids' | 'cpu';

/** Where each controller lives on this host: cgroup v2 where it is enabled, else v1. */
export interface CgroupLayout {
  /** cgroup2 mount point (pure v2 at /sys/fs/cgroup, or hybrid at /sys/fs/cgroup/unified). */
  readonly unified?: string;
  /** Per controller: the hierarchy mount point and its version. */
  readonly controllers: Readonly<Partial<Record<LimitController, ControllerMount>>>;
}

export interface ControllerMount {
  readonly version: 1 | 2;
  readonly mount: string;
}

/** The cgroup directories of one sandbox (one per hierarchy) and which one can kill. */
export interface SandboxCgroups {
  readonly paths: readonly string[];
  /** A cgroup v2 directory whose `cgroup.kill` ends the whole tree atomically (Linux ≥ 5.14). */
  readonly killable?: string;
}

const CONTROLLERS: readonly LimitController[] = ['memory', 'pids', 'cpu'];
const CFS_PERIOD_US = 100_000;

/** Reads /proc/self/mountinfo and finds the cgroup hierarchies (see proc(5), cgroups(7)). */
export async function detectCgroupLayout(mountinfo?: string): Promise<CgroupLayout> {
  const text = mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8'));
  let unified: string | undefined;
  const controllers: Partial<Record<LimitController, ControllerMount>> = {};
  for (const line of text.split('\n')) {
    const [left = '', right = ''] = line.split(' - ');
    const fields = left.split(' ');
    const [fstype = '', , superOptions = ''] = right.split(' ');
    const mountPoint = fields[4];
    // A hierarchy mounted below its root (fields[3] !== '/') is someone else's subtree view.
    if (mountPoint === undefined || fields[3] !== '/') continue;
    if (fstype === 'cgroup2') unified = mountPoint;
    if (fstype !== 'cgroup') continue;
    const options = new Set(superOptions.split(','));
    for (const name of CONTROLLERS) {
      if (options.has(name)) controllers[name] = { version: 1, mount: mountPoint };
    }
  }
  if (unified !== undefined) {
    const enabled = await readFile(join(unified, 'cgroup.controllers'), 'utf8').catch(() => '');
    for (const name of enabled.trim().split(/\s+/)) {
      if ((CONTROLLERS as readonly string[]).includes(name)) {
        controllers[name as LimitController] = { version: 2, mount: unified };
      }
    }
  }
  return unified === undefined ? { controllers } : { unified, controllers };
}

/** Throws ERR_HOST_UNSUPPORTED when a requested limit has no controller on this host. */
export function assertLimitsSupported(layout: CgroupLayout, limits: SandboxLimits): void {
  const needed: [LimitController, number | undefined][] = [
    ['memory', limits.memoryBytes],
    ['pids', limits.pids],
    ['cpu', limits.cpuMillis],
  ];
  for (const [name, value] of needed) {
    if (value !== undefined && layout.controllers[name] === undefined) {
      throw new OpenShellError(
        'ERR_HOST_UNSUPPORTED',
        `the ${name} limit cannot be enforced: no cgroup v2 "${name}" controller is enabled and no cgroup v1 "${name}" hierarchy is mounted; mount one (mount -t cgroup -o ${name} cgroup /sys/fs/cgroup/${name}) or drop the limit`,
      );
    }
  }
  if (layout.unified === undefined && layout.controllers.pids === undefined) {
    throw new OpenShellError(
      'ERR_HOST_UNSUPPORTED',
      'no cgroup v2 mount and no cgroup v1 pids hierarchy: the driver could not find every process of a sandbox to stop it',
    );
  }
}

/** Directories (one per hierarchy) that hold sandbox cgroups; created once per driver. */
export function listParentDirs(layout: CgroupLayout, parent: string): string[] {
  const mounts = new Set<string>();
  if (layout.unified !== undefined) mounts.add(layout.unified);
  for (const mount of Object.values(layout.controllers)) mounts.add(mount.mount);
  return [...mounts].map((mount) => join(mount, parent));
}

/** Creates the parent directories and, on pure v2, delegates the controllers to them. */
export async function prepareCgroupParents(layout: CgroupLayout, parent: string): Promise<void> {
  for (const dir of listParentDirs(layout, parent)) await mkdir(dir, { recursive: true });
  if (layout.unified === undefined) return;
  const v2 = CONTROLLERS.filter((name) => layout.controllers[name]?.version === 2);
  if (v2.length === 0) return;
  // cgroup v2 "no internal processes" rule: controllers must be enabled in every ancestor's
  // subtree_control before a leaf can set memory.max, pids.max or cpu.max.
  const enable = v2.map((name) => `+${name}`).join(' ');
  await writeFile(join(layout.unified, 'cgroup.subtree_control'), enable);
  await writeFile(join(layout.unified, parent, 'cgroup.subtree_control'), enable);
}

/** The cgroup directories a sandbox will get (recorded before they are created). */
export function planSandboxCgroups(
  layout: CgroupLayout,
  parent: string,
  name: string,
): SandboxCgroups {
  const paths = listParentDirs(layout, parent).map((dir) => join(dir, name));
  return layout.unified === undefined
    ? { paths }
    : { paths, killable: join(layout.unified, parent, name) };
}

/** Creates one sandbox's cgroups and writes its limits before any process joins. */
export async function createSandboxCgroups(
  layout: CgroupLayout,
  parent: string,
  name: string,
  limits: SandboxLimits,
): Promise<void> {
  for (const path of planSandboxCgroups(layout, parent, name).paths) await mkdir(path);
  const dirOf = (controller: LimitController): string | undefined => {
    const mount = layout.controllers[controller];
    return mount === undefined ? undefined : join(mount.mount, parent, name);
  };
  const memory = layout.controllers.memory;
  if (limits.memoryBytes !== undefined && memory !== undefined) {
    const dir = dirOf('memory') ?? '';
    const bytes = String(limits.memoryBytes);
    if (memory.version === 2) {
      await writeFile(join(dir, 'memory.max'), bytes);
      await writeFile(join(dir, 'memory.swap.max'), '0').catch(ignoreMissing);
    } else {
      await writeFile(join(dir, 'memory.limit_in_bytes'), bytes);
      // memsw only exists with swap accounting; where it does, swap must not extend the limit.
      await writeFile(join(dir, 'memory.memsw.limit_in_bytes'), bytes).catch(ignoreMissing);
    }
  }
  if (limits.pids !== undefined) {
    await writeFile(join(dirOf('pids') ?? '', 'pids.max'), String(limits.pids));
  }
  const cpu = layout.controllers.cpu;
  if (limits.cpuMillis !== undefined && cpu !== undefined) {
    const quota = Math.max(1000, Math.round((limits.cpuMillis * CFS_PERIOD_US) / 1000));
    const dir = dirOf('cpu') ?? '';
    if (cpu.version === 2) {
      await writeFile(join(dir, 'cpu.max'), `${String(quota)} ${String(CFS_PERIOD_US)}`);
    } else {
      await writeFile(join(dir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
      await writeFile(join(dir, 'cpu.cfs_quota_us'), String(quota));
    }
  }
}

/** Pids currently in any of the cgroups (missing directories count as empty). */
export async function listCgroupPids(paths: readonly string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const path of paths) {
    const text = await readFile(join(path, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line !== '') pids.add(Number(line));
  }
  return [...pids];
}

/**
 * Kills every process in the sandbox's cgroups and removes them. `cgroup.kill` is atomic
 * against forks; without it the loop re-reads cgroup.procs until a fork bomb runs dry
 * (its pids limit bounds it).
 */
export async function destroySandboxCgroups(cgroups: SandboxCgroups): Promise<void> {
  if (cgroups.killable !== undefined) {
    await writeFile(join(cgroups.killable, 'cgroup.kill'), '1').catch(ignoreMissing);
  }
  // Every process is in every hierarchy, so one directory tells when all have exited
  // (the v2 one when there is one). Back off from 1 ms so a slow exit costs little CPU.
  const watched = cgroups.killable === undefined ? cgroups.paths : [cgroups.killable];
  const deadline = Date.now() + 10_000;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    const pids = await listCgroupPids(watched);
    if (pids.length === 0) break;
    for (const pid of pids) killQuietly(pid);
    if (Date.now() > deadline) {
      throw new OpenShellError(
        'ERR_COMPUTE_DRIVER_FAILED',
        `processes ${pids.join(', ')} did not exit after SIGKILL (stuck in the kernel?); retry the deletion`,
        { details: { stage: 'cgroup', pids } },
      );
    }
    await sleep(wait);
  }
  for (const path of cgroups.paths) await removeCgroupDir(path);
}

async function removeCgroupDir(path: string): Promise<void> {
  // An emptied cgroup can report EBUSY for a moment while the last task is being released.
  for (let attempt = 0; ; attempt += 1) {
    try {
      await rmdir(path);
      return;
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt > 200) throw cause;
      await sleep(Math.min(2 ** attempt, 50));
    }
  }
}

/** True when the directory exists (a cgroup that is still there). */
export async function existsPath(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // ESRCH: it exited between listing and killing, which is the goal.
  }
}

function ignoreMissing(cause: unknown): void {
  if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
}
