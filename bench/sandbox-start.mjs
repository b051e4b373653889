// Sandbox start latency of the local compute driver: create() → the agent's first output
// byte, create() → agent exit, and delete(), beside the floor of a bare bubblewrap run
// (`bwrap --unshare-all --die-with-parent --ro-bind / / CMD`, no netns plumbing, no cgroups).
// Run as root: `pnpm --filter @openshell/gateway build && node bench/sandbox-start.mjs`.
// Writes bench/results/sandbox-start.md.
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalDriver } from '../packages/gateway/dist/index.js';

const RUNS = 30;
const WARMUP = 3;
const benchDir = dirname(fileURLToPath(import.meta.url));
const AGENT = ['/bin/echo', 'x'];

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), min: sorted[0] };
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Resolves when `file` first has content (inotify via fs.watch, with a re-check on each event). */
function firstOutput(file) {
  return new Promise((resolve, reject) => {
    const watcher = watch(file, async function onChange() {
      const text = await readFile(file, 'utf8').catch(() => '');
      if (text.length > 0) {
        watcher.close();
        resolve(now());
      }
    });
    watcher.on('error', reject);
    // The agent may have written before the watcher was installed.
    readFile(file, 'utf8').then((text) => {
      if (text.length > 0) {
        watcher.close();
        resolve(now());
      }
    }, reject);
  });
}

/** Spawn → first stdout byte of a bare bubblewrap sandbox (the floor). */
async function runFloor() {
  const t0 = now();
  const t1 = await new Promise((resolve, reject) => {
    const child = spawn(
      'bwrap',
      ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', ...AGENT],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    child.stdout.once('data', () => resolve(now()));
    child.on('error', reject);
  });
  return t1 - t0;
}

/** CPU time (ms) of this process plus every reaped descendant: proc(5) utime..cstime. */
async function readCpuMs() {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return ticks * 10; // CLK_TCK is 100 on Linux
}

async function bench() {
  const stateDir = await mkdtemp('/var/tmp/openshell-bench-');
  const driver = await createLocalDriver({
    stateDir,
    addressPool: '10.239.0.0/24',
    uidBase: 239_000,
    namePrefix: 'obn',
    cgroupParent: 'openshell-bench',
  });
  const samples = { create: [], output: [], exit: [], teardown: [], floor: [], cpu: [] };
  try {
    for (let i = 0; i < WARMUP + RUNS; i += 1) {
      const floor = await runFloor();
      const id = `b${String(i)}`;
      const cpu0 = await readCpuMs();
      const t0 = now();
      const handle = await driver.create({
        id,
        filesystem: {
          include_workdir: true,
          read_only: ['/usr', '/etc'],
          read_write: ['/sandbox', '/tmp'],
        },
        proxy: { port: 3128 },
        limits: { memoryBytes: 256 * 1024 * 1024, pids: 256, cpuMillis: 1000 },
        command: AGENT,
      });
      const t1 = now();
      const tOut = await firstOutput(handle.logFile);
      const result = await driver.waitExit(id);
      const t2 = now();
      if (result.code !== 0) throw new Error(`agent exited ${String(result.code)}`);
      await driver.delete(id);
      const t3 = now();
      const cpu1 = await readCpuMs();
      if (i < WARMUP) continue;
      samples.floor.push(floor);
      samples.create.push(t1 - t0);
      samples.output.push(tOut - t0);
      samples.exit.push(t2 - t0);
      samples.teardown.push(t3 - t2);
      samples.cpu.push(cpu1 - cpu0);
    }
  } finally {
    for (const sandbox of await driver.list()) await driver.delete(sandbox.id);
    await rm(stateDir, { recursive: true, force: true });
    for (const hierarchy of await readdir('/sys/fs/cgroup')) {
      await rmdir(join('/sys/fs/cgroup', hierarchy, 'openshell-bench')).catch(() => undefined);
    }
  }
  const cpuMean = samples.cpu.reduce((a, b) => a + b, 0) / samples.cpu.length;
  return {
    ...Object.fromEntries(Object.entries(samples).map(([key, list]) => [key, summarize(list)])),
    cpuMean,
  };
}

const fmt = (s) => `${s.p50.toFixed(1)} / ${s.p95.toFixed(1)} ms (min ${s.min.toFixed(1)})`;
const loadBefore = loadavg()
  .map((n) => n.toFixed(2))
  .join(' ');
const result = await bench();
const loadAfter = loadavg()
  .map((n) => n.toFixed(2))
  .join(' ');

const report = `# Sandbox start (local driver)

Date: ${new Date().toISOString()}

Machine: ${cpus()[0]?.model ?? 'unknown'}, ${String(cpus().length)} cores, linux ${release()}, Node ${process.version}; load average before ${loadBefore}, after ${loadAfter} (other work shares these cores)

Command: \`pnpm --filter @openshell/gateway build && node bench/sandbox-start.mjs\`

${String(RUNS)} runs after ${String(WARMUP)} warm-up runs, each a floor run followed by a driver run (so both see
the same load); agent \`${AGENT.join(' ')}\`; memory, pids and cpu limits set (so all four cgroups are created and
joined); default-like filesystem policy. CPU is this process plus all reaped descendants (10 ms ticks).

| measurement | p50 / p95 |
|---|---|
| floor: \`bwrap --unshare-all --die-with-parent --ro-bind / / ${AGENT.join(' ')}\` spawn → first byte | ${fmt(result.floor)} |
| driver: create() resolved (cgroups, netns + veth, nftables, links, bwrap root, agent released) | ${fmt(result.create)} |
| driver: create() → agent's first output byte (in its log file) | ${fmt(result.output)} |
| driver: create() → agent exit observed | ${fmt(result.exit)} |
| driver: delete() (kill, cgroups, veth + netns, lease, files) | ${fmt(result.teardown)} |
| driver: CPU per create + delete (all processes, mean) | ${result.cpuMean.toFixed(0)} ms |
`;
await writeFile(join(benchDir, 'results', 'sandbox-start.md'), report);
process.stdout.write(report);
