// Launcher overhead: spawn -> exit of `true`, directly vs through openshell-launcher.
// Two views: Node's child_process.spawn (what the sandbox-agent pays) and a C fork/exec
// timer (the launcher's own set-up without Node's spawn cost). Run as root (the launcher
// switches to uid 10001): `pnpm --filter @openshell/native-enforcer build && node bench/launcher-overhead.mjs`.
// Writes bench/results/launcher-overhead.md.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildLaunchSpec,
  encodeLaunchSpec,
  launcherPath,
  probeKernel,
  spawnEnforced,
} from '../packages/native-enforcer/dist/index.js';

const RUNS = 100;
const WARMUP = 10;
const benchDir = dirname(fileURLToPath(import.meta.url));
const TRUE = '/bin/true';

/** The default policy's filesystem section (REFERENCE.md), as buildLaunchSpec sees it. */
const policy = {
  version: 1,
  filesystem_policy: {
    include_workdir: false,
    read_only: ['/usr', '/lib', '/lib64', '/bin', '/etc', '/proc', '/dev/urandom'],
    read_write: ['/tmp', '/dev/null'],
  },
  landlock: { compatibility: 'hard_requirement' },
  process: { run_as_user: 'sandbox', run_as_group: 'sandbox' },
  network_policies: {},
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), min: sorted[0] };
}

function waitExit(child) {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`exit ${code ?? signal}`)),
    );
  });
}

/** Alternates the two ways of starting the command, so load spikes hit both alike. */
async function timeNodePair(startDirect, startLaunched) {
  const direct = [];
  const launched = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    for (const [start, samples] of [
      [startDirect, direct],
      [startLaunched, launched],
    ]) {
      const t0 = process.hrtime.bigint();
      await waitExit(start());
      if (i >= WARMUP) samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return [summarize(direct), summarize(launched)];
}

function timeNativePair(timer, specFile, command) {
  const out = execFileSync(timer, [String(WARMUP + RUNS), launcherPath(), specFile, command], {
    encoding: 'utf8',
  });
  const pairs = out
    .trim()
    .split('\n')
    .slice(WARMUP)
    .map((line) => line.split(' ').map((us) => Number(us) / 1000));
  return [summarize(pairs.map(([d]) => d)), summarize(pairs.map(([, l]) => l))];
}

function specFor(command) {
  return buildLaunchSpec(policy, {
    argv: [command],
    env: { PATH: '/usr/bin:/bin', HOME: '/tmp', OPENSHELL_SANDBOX: '1' },
    cwd: '/tmp',
    uid: 10001,
    gid: 10001,
  });
}

const tmp = mkdtempSync('/tmp/openshell-bench-');
try {
  chmodSync(tmp, 0o755);
  const timer = join(tmp, 'timer');
  execFileSync('cc', ['-O2', '-o', timer, join(benchDir, 'launcher-overhead-timer.c')]);
  // A static no-op isolates exec cost: on a VM where one execve costs milliseconds, the
  // launcher's price is mostly its own extra execve, which this baseline shows.
  const nop = join(tmp, 'nop');
  writeFileSync(`${nop}.c`, 'int main(void) { return 0; }\n');
  execFileSync('cc', ['-O2', '-static', '-o', nop, `${nop}.c`]);
  const spec = specFor(TRUE);
  const specFiles = {};
  for (const [name, command] of [
    ['true', TRUE],
    ['nop', nop],
  ]) {
    specFiles[name] = join(tmp, `${name}.spec`);
    writeFileSync(specFiles[name], encodeLaunchSpec(specFor(command)));
  }

  const probe = await probeKernel();
  const loadBefore = loadavg()[0];
  const [nodeDirect, nodeLauncher] = await timeNodePair(
    () => spawn(TRUE, [], { stdio: 'ignore', env: {} }),
    () => spawnEnforced(spec, { stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  const [cDirect, cLauncher] = timeNativePair(timer, specFiles.true, TRUE);
  const [nopDirect, nopLauncher] = timeNativePair(timer, specFiles.nop, nop);
  const loadAfter = loadavg()[0];
  const rows = [
    ['Node spawn, direct', nodeDirect],
    ['Node spawnEnforced (through launcher)', nodeLauncher],
    ['C fork/exec, direct', cDirect],
    ['C fork/exec, through launcher', cLauncher],
    ['C fork/exec static no-op, direct', nopDirect],
    ['C fork/exec static no-op, through launcher', nopLauncher],
  ];

  const f = (n) => n.toFixed(3);
  const table = rows
    .map(([name, r]) => `| ${name} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.min)} |`)
    .join('\n');
  const report = `# Launcher overhead

\`node bench/launcher-overhead.mjs\` (as root, after \`pnpm --filter @openshell/native-enforcer build\`):
spawn → exit, ${RUNS} runs after ${WARMUP} warm-up runs each; direct and launched runs alternate. Launcher spec: uid/gid 10001,
Landlock hard_requirement (kernel ABI ${probe.landlock.abi}) over the default policy's ${spec.readOnly.length} read-only and
${spec.readWrite.length} read-write paths, seccomp filter, empty capability sets.

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}, Node ${process.version}.
1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (other jobs share this machine:
compare rows of one run, and prefer min when the load is high). Times in ms.

| path | p50 | p95 | min |
|---|---|---|---|
${table}

Launcher cost, p50 (min) differences: ${f(nodeLauncher.p50 - nodeDirect.p50)} (${f(nodeLauncher.min - nodeDirect.min)}) ms from Node;
${f(cLauncher.p50 - cDirect.p50)} (${f(cLauncher.min - cDirect.min)}) ms from C with \`${TRUE}\`;
${f(nopLauncher.p50 - nopDirect.p50)} (${f(nopLauncher.min - nopDirect.min)}) ms from C with a static no-op, against
${f(nopDirect.p50)} (${f(nopDirect.min)}) ms for one bare fork+exec of that no-op — the launcher adds one such execve
plus its set-up (spec read, privilege drop, ${spec.readOnly.length + spec.readWrite.length} Landlock rules, seccomp install).
`;
  writeFileSync(join(benchDir, 'results', 'launcher-overhead.md'), report);
  process.stdout.write(report);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
