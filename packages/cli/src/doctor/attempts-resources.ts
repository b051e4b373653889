import { blocked, field, notBlocked, voidProof, type AttemptSpec } from './attempt-spec.js';

const coreDumps: AttemptSpec = {
  id: 'res-core',
  category: 'resources',
  attempt: 'enable core dumps (ulimit -c)',
  // A core file of a process holding a placeholder-swapped token or a decrypted file would
  // land in the workspace; soft and hard RLIMIT_CORE 0 and no way to raise them.
  script: () => `r soft "$(ulimit -c)"; r hard "$(ulimit -H -c)"
(ulimit -c 1) 2>/dev/null && r raised 1 || r raised 0`,
  judge(rec) {
    const detail = `soft ${field(rec, 'soft')}, hard ${field(rec, 'hard')}`;
    if (field(rec, 'raised') === '1' || field(rec, 'soft') !== '0') {
      return notBlocked('rlimit core', `core dumps can be enabled (${detail})`);
    }
    return blocked('rlimit core', `${detail}; raising it fails`);
  },
};

const forkBomb: AttemptSpec = {
  id: 'res-fork-bomb',
  category: 'resources',
  attempt: 'fork bomb',
  script: (ctx) =>
    `r control "$($P fork-many 8)"; r bomb "$($P fork-many ${String(ctx.pidsMax + 64)})"`,
  judge(rec, ctx) {
    if (field(rec, 'control') !== 'forked=8 stop=none') {
      return voidProof('cgroup pids', `control failed: 8 forks gave "${field(rec, 'control')}"`);
    }
    const match = /^forked=(\d+) stop=(\w+)$/.exec(field(rec, 'bomb'));
    if (match === null)
      return voidProof('cgroup pids', `unreadable answer "${field(rec, 'bomb')}"`);
    const [, forked = '', stop = ''] = match;
    const detail = `${forked} of ${String(ctx.pidsMax + 64)} forks, then ${stop} (pids limit ${String(ctx.pidsMax)}, set by doctor --prove)`;
    return stop === 'EAGAIN' && Number(forked) < ctx.pidsMax
      ? blocked('cgroup pids', detail)
      : notBlocked('cgroup pids', detail);
  },
};

// Just past the limit: enough to prove it holds, small enough that a host without the limit
// is not pushed into its own OOM killer by the proof.
const HOG_OVER_MIB = 128;

const memory: AttemptSpec = {
  id: 'res-memory',
  category: 'resources',
  attempt: 'allocate far beyond the memory limit',
  // Last in the script: the OOM kill must not take an attempt after it down with it.
  script: (ctx) => `r control "$($P hog 32 2>&1)"
out=$($P hog ${String(ctx.memoryMiB + HOG_OVER_MIB)} 2>&1); r rc $?; r out "$out"`,
  judge(rec, ctx) {
    if (field(rec, 'control') !== 'held=32') {
      return voidProof('cgroup memory', `control failed: 32 MiB gave "${field(rec, 'control')}"`);
    }
    const wanted = String(ctx.memoryMiB + HOG_OVER_MIB);
    if (field(rec, 'out').startsWith('held=')) {
      return notBlocked(
        'cgroup memory',
        `held ${wanted} MiB under a ${String(ctx.memoryMiB)} MiB limit`,
      );
    }
    // 137 = 128 + SIGKILL: the cgroup's OOM killer.
    if (field(rec, 'rc') === '137') {
      return blocked(
        'cgroup memory',
        `killed by the OOM killer before holding ${wanted} MiB (limit ${String(ctx.memoryMiB)} MiB, set by doctor --prove)`,
      );
    }
    return voidProof(
      'cgroup memory',
      `unexpected: exit ${field(rec, 'rc')}, "${field(rec, 'out')}"`,
    );
  },
};

/** Resource attempts: core dumps, a fork bomb against the pids limit, memory. */
export const RESOURCE_ATTEMPTS: readonly AttemptSpec[] = [coreDumps, forkBomb, memory];
