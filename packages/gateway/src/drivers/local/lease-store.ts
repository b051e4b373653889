import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenShellError } from '@openshell/policy-schema';
import { formatIpv4, type Ipv4Cidr } from './ipv4.js';

/** One sandbox's share of the host: a /30 address block, a host uid/gid and a name tag. */
export interface Lease {
  readonly id: string;
  /** Block number inside the pool; also the offset of the uid from the uid base. */
  readonly index: number;
  readonly hostAddress: string;
  readonly sandboxAddress: string;
  readonly prefixLength: 30;
  readonly uid: number;
  readonly gid: number;
  /** Random suffix of host object names, so a name is never reused right after deletion. */
  readonly tag: string;
}

interface LeaseFile {
  readonly version: 1;
  /** Next block to try: allocation is next-fit, so a freed block is the last one reused. */
  readonly cursor: number;
  readonly leases: Readonly<Record<string, Lease>>;
}

export interface LeaseStore {
  /** Allocates a block, uid and tag for `id` (or returns the existing lease). */
  acquire(id: string): Promise<Lease>;
  /** Frees the lease of `id`; false when it had none. */
  release(id: string): Promise<boolean>;
  get(id: string): Promise<Lease | undefined>;
  all(): Promise<readonly Lease[]>;
}

export interface LeaseStoreOptions {
  readonly file: string;
  readonly pool: Ipv4Cidr;
  readonly uidBase: number;
}

const LOCK_WAIT_MS = 10_000;
const EMPTY: LeaseFile = { version: 1, cursor: 1, leases: {} };

/**
 * Leases persisted as JSON, shared by every driver instance on the host (a restarted
 * gateway, a CLI-started one). Writers take an O_EXCL lock file holding their pid and
 * replace the file by atomic rename, so a crash never leaves a half-written lease table.
 *
 * @example
 * const store = createLeaseStore({ file: '/var/lib/openshell/leases.json', pool, uidBase: 200000 });
 * const lease = await store.acquire('demo');
 */
export function createLeaseStore(options: LeaseStoreOptions): LeaseStore {
  const { file, pool, uidBase } = options;
  const blocks = 2 ** (30 - pool.prefixLength);

  async function load(): Promise<LeaseFile> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY;
      throw cause;
    }
    const parsed = JSON.parse(text) as LeaseFile;
    if (parsed.version !== 1 || typeof parsed.leases !== 'object') {
      throw new OpenShellError(
        'ERR_COMPUTE_DRIVER_FAILED',
        `lease file ${file} has an unknown format; move it aside only after deleting every sandbox`,
      );
    }
    return parsed;
  }

  async function save(next: LeaseFile): Promise<void> {
    const temp = `${file}.${String(process.pid)}.tmp`;
    await writeFile(temp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, file);
  }

  async function withLock<T>(body: () => Promise<T>): Promise<T> {
    const lockFile = `${file}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lockFile, 'wx', 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        break;
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw cause;
        await breakStaleLock(lockFile);
        if (Date.now() > deadline) {
          throw new OpenShellError(
            'ERR_COMPUTE_DRIVER_FAILED',
            `lease lock ${lockFile} is held by a live process; if no gateway is running, remove it`,
            { details: { stage: 'lease' } },
          );
        }
        await sleep(2);
      }
    }
    try {
      return await body();
    } finally {
      await unlink(lockFile);
    }
  }

  function makeLease(id: string, index: number): Lease {
    const blockBase = pool.base + index * 4;
    return {
      id,
      index,
      hostAddress: formatIpv4(blockBase + 1),
      sandboxAddress: formatIpv4(blockBase + 2),
      prefixLength: 30,
      uid: uidBase + index,
      gid: uidBase + index,
      tag: randomBytes(5).readUIntBE(0, 5).toString(36).padStart(8, '0').slice(-8),
    };
  }

  return {
    acquire(id) {
      return withLock(async function acquireLocked() {
        const current = await load();
        const existing = current.leases[id];
        if (existing !== undefined) return existing;
        const used = new Set(Object.values(current.leases).map((lease) => lease.index));
        // Block 0 stays free for a shared host service address (e.g. one proxy for all).
        for (let step = 0; step < blocks - 1; step += 1) {
          const index = ((current.cursor - 1 + step) % (blocks - 1)) + 1;
          if (used.has(index)) continue;
          const lease = makeLease(id, index);
          await save({
            version: 1,
            cursor: (index % (blocks - 1)) + 1,
            leases: { ...current.leases, [id]: lease },
          });
          return lease;
        }
        throw new OpenShellError(
          'ERR_COMPUTE_DRIVER_FAILED',
          `address pool exhausted: all ${String(blocks - 1)} /30 blocks are leased; delete sandboxes or configure a larger addressPool`,
          { details: { stage: 'lease' } },
        );
      });
    },
    release(id) {
      return withLock(async function releaseLocked() {
        const current = await load();
        if (current.leases[id] === undefined) return false;
        const rest = Object.entries(current.leases).filter(([key]) => key !== id);
        await save({ ...current, leases: Object.fromEntries(rest) });
        return true;
      });
    },
    async get(id) {
      return (await load()).leases[id];
    },
    async all() {
      return Object.values((await load()).leases);
    },
  };
}

/** Removes a lock file whose owner pid no longer exists (a gateway that crashed holding it). */
async function breakStaleLock(lockFile: string): Promise<void> {
  let owner: number;
  try {
    owner = Number(await readFile(lockFile, 'utf8'));
  } catch {
    return; // Released (or not yet written) between our open and read: just retry.
  }
  if (!Number.isInteger(owner) || owner <= 0) return;
  try {
    process.kill(owner, 0);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ESRCH') {
      await unlink(lockFile).catch(() => undefined); // Another waiter may have removed it first.
    }
  }
}
