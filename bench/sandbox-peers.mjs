// Helpers of bench/sandbox-runtime.mjs: process memory from /proc, and the peers it runs beside
// the sandbox runtime (the bwrap floor and srt, @anthropic-ai/sandbox-runtime).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function memoryOf(pid) {
  const statusText = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (text, key) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  return {
    pid,
    comm,
    rss: kib(statusText, 'VmRSS'),
    pss: kib(rollup, 'Pss'),
    // Pages no other process maps: what this sandbox adds whatever else runs on the host (Pss
    // shares the node binary's pages with every other node process running at the time).
    priv: kib(rollup, 'Private_Clean') + kib(rollup, 'Private_Dirty'),
  };
}

export function childrenOf(pid) {
  const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
}

/** Descendants of pid (children first-level, then theirs), from /proc via ps. */
export function descendantsOf(pid) {
  const all = [];
  for (let queue = [pid]; queue.length > 0;) {
    const kids = childrenOf(queue.shift());
    all.push(...kids);
    queue.push(...kids);
  }
  return all;
}

/** `srt` on PATH, or undefined; srt is optional (it is the peer, not part of this project). */
export function findSrt() {
  const found = spawnSync('sh', ['-c', 'command -v srt'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}
export function srtVersion(srt) {
  return spawnSync(srt, ['--version'], { encoding: 'utf8' }).stdout.trim();
}
export const SRT_MISSING =
  'srt not installed: `npm i -g @anthropic-ai/sandbox-runtime` and `apt-get install -y ripgrep socat`';

/** Wall time of one command, spawn → exit; throws when it fails. */
export function timeCommand(argv, cwd) {
  const started = now();
  const result = spawnSync(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = now() - started;
  if (result.status !== 0)
    throw new Error(
      `${argv.join(' ')} failed (${String(result.status ?? result.signal ?? result.error?.message)}): ${String(result.stderr)}`,
    );
  return elapsed;
}

/** Pss/VmRSS of an idle `srt -c 'sleep 60'`: srt's process tree without the sleep itself. */
export async function srtIdleMemory(srt, cwd) {
  const child = spawn(srt, ['-c', 'sleep 60'], { cwd, stdio: 'ignore' });
  try {
    await sleep(3000);
    const tree = [child.pid, ...descendantsOf(child.pid)].map((pid) => {
      try {
        return memoryOf(pid);
      } catch {
        return undefined; // Exited between listing and reading.
      }
    });
    return tree.filter((p) => p !== undefined && p.comm !== 'sleep');
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
