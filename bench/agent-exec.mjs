// Exec round trip on a running sandbox agent, and the agent's idle memory.
// DESIGN §3 targets: a second command on a running agent ≤ 25 ms p50 (prototype 2.3 ms);
// idle agent ~6 MB private (VmRSS ~42 MB, mostly the node binary's shared pages).
//
//   pnpm --filter @openshell/sandbox-agent build && node bench/agent-exec.mjs
//
// Starts the built agent in file mode (as root; processes run as uid 10001 through the real
// launcher, outside bubblewrap) and drives it over its control socket: 100 sequential
// `exec true` round trips (send ExecSession → receive ProcessExited) after 10 warm-ups, the
// same over a pty, and for scale the same command started by spawnEnforced directly from
// Node in this process. Memory is read from /proc/<agent>/status and smaps_rollup 2 s after
// start-up and 2 s after the execs. Two agent configurations: plain `node`, and `node
// --max-semi-space-size=1` (a flag only the command line can set). A bare idle `node` is the
// floor. Writes bench/results/agent-exec.md.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const agentDir = join(root, 'packages/sandbox-agent');
const { createControlClient } = await import(join(agentDir, 'dist/index.js'));
const { spawnEnforced, buildLaunchSpec } = await import(
  join(root, 'packages/native-enforcer/dist/index.js')
);
const { parsePolicy } = await import(join(root, 'packages/policy-schema/dist/index.js'));

const RUNS = 100;
const WARMUP = 10;
const UID = 10001;
// dist/agent.bundle.mjs is what the sandbox runtime starts; dist/bin.js (one file per module
// through node_modules) is kept as the before/after reference for start-up and memory.
const CONFIGS = [
  { entry: 'dist/agent.bundle.mjs', nodeFlags: [] },
  { entry: 'dist/agent.bundle.mjs', nodeFlags: ['--max-semi-space-size=1'] },
  { entry: 'dist/bin.js', nodeFlags: [] },
];

const dir = mkdtempSync('/tmp/osa-bench-');
chmodSync(dir, 0o755);
const home = join(dir, 'home');
mkdirSync(home);
chownSync(home, UID, UID);
const policyYaml = `version: 1
filesystem_policy:
  include_workdir: false
  read_only: [/usr, /lib, /lib64, /bin, /etc, /proc, /dev/urandom]
  read_write: [${home}, /tmp, /dev/null]
landlock:
  compatibility: hard_requirement
process:
  run_as_user: sandbox
  run_as_group: sandbox
`;
writeFileSync(join(dir, 'policy.yaml'), policyYaml);
writeFileSync(
  join(dir, 'spec.json'),
  JSON.stringify({ process: { argv: ['sleep', 'infinity'] }, policyFile: 'policy.yaml' }),
);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readMemory(pid) {
  const kb = (text, key) =>
    Number(new RegExp(`^${key}:\\s+([0-9]+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return {
    vmRss: kb(status, 'VmRSS') / 1024,
    pss: kb(rollup, 'Pss') / 1024,
    private: (kb(rollup, 'Private_Clean') + kb(rollup, 'Private_Dirty')) / 1024,
  };
}

async function measure(run) {
  for (let i = 0; i < WARMUP; i++) await run();
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push(await run());
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { p50: at(0.5), p95: at(0.95), min: times[0] };
}

async function benchAgent({ entry, nodeFlags }, index) {
  const socket = join(dir, `control-${index}.sock`);
  const agent = spawn(
    process.execPath,
    [
      ...nodeFlags,
      join(agentDir, entry),
      '--spec-file',
      join(dir, 'spec.json'),
      '--control-socket',
      socket,
      '--home',
      home,
    ],
    { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  agent.stderr.on('data', (d) => (log += d));
  const startedAt = performance.now();
  while (!log.includes('control socket listening')) {
    if (performance.now() - startedAt > 15_000) throw new Error(`agent did not start:\n${log}`);
    await sleep(5);
  }
  const startupMs = performance.now() - startedAt;
  await sleep(2000);
  const memFresh = readMemory(agent.pid);

  const client = createControlClient(socket);
  const stream = client.session();
  const pending = new Map();
  stream.on('data', (event) => {
    const kind = event.payload?.$case;
    if (kind === 'processExited' || kind === 'sessionFailed') {
      pending.get(event.payload.value.sessionId)?.(event);
      pending.delete(event.payload.value.sessionId);
    }
  });
  let counter = 0;
  const execOnce = (tty) => {
    const sessionId = `b${++counter}`;
    const process = { argv: ['true'], env: {}, workdir: '', tty, user: '', group: '' };
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      pending.set(sessionId, (event) => {
        if (event.payload.$case === 'sessionFailed') reject(new Error(event.payload.value.message));
        else resolve(performance.now() - t0);
      });
      stream.write({ payload: { $case: 'exec', value: { sessionId, process } } });
    });
  };
  const piped = await measure(() => execOnce(false));
  const pty = await measure(() => execOnce(true));
  await sleep(2000);
  const memAfter = readMemory(agent.pid);
  stream.end();
  client.close();
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  return { entry, nodeFlags, startupMs, memFresh, memAfter, piped, pty };
}

async function bareNodeMemory() {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(2000);
  const memory = readMemory(child.pid);
  child.kill();
  return memory;
}

const loadBefore = loadavg()[0];
const results = [];
for (const [index, config] of CONFIGS.entries()) results.push(await benchAgent(config, index));
const policy = parsePolicy(policyYaml).policy;
const directSpec = buildLaunchSpec(policy, {
  argv: ['true'],
  env: { PATH: '/usr/bin:/bin' },
  cwd: home,
  uid: UID,
  gid: UID,
});
const direct = await measure(
  () =>
    new Promise((resolve) => {
      const t0 = performance.now();
      spawnEnforced(directSpec, { stdio: ['ignore', 'pipe', 'pipe'] }).on('close', () =>
        resolve(performance.now() - t0),
      );
    }),
);
const bare = await bareNodeMemory();
const loadAfter = loadavg()[0];
rmSync(dir, { recursive: true, force: true });

const f = (n) => n.toFixed(2);
const label = (r) => `\`${['node', ...r.nodeFlags, r.entry].join(' ')}\``;
const timing = [
  '| path | p50 ms | p95 ms | min ms |',
  '|---|---|---|---|',
  ...results.flatMap((r) => [
    `| exec \`true\`, pipes, agent on ${label(r)} | ${f(r.piped.p50)} | ${f(r.piped.p95)} | ${f(r.piped.min)} |`,
    `| exec \`true\`, pty, agent on ${label(r)} | ${f(r.pty.p50)} | ${f(r.pty.p95)} | ${f(r.pty.min)} |`,
  ]),
  `| spawnEnforced \`true\` from Node, no agent | ${f(direct.p50)} | ${f(direct.p95)} | ${f(direct.min)} |`,
].join('\n');
const memory = [
  '| process | VmRSS MB | Pss MB | private MB |',
  '|---|---|---|---|',
  ...results.flatMap((r) => [
    `| agent on ${label(r)}, idle after start-up | ${f(r.memFresh.vmRss)} | ${f(r.memFresh.pss)} | ${f(r.memFresh.private)} |`,
    `| agent on ${label(r)}, idle after ${2 * (RUNS + WARMUP)} execs | ${f(r.memAfter.vmRss)} | ${f(r.memAfter.pss)} | ${f(r.memAfter.private)} |`,
  ]),
  `| bare idle \`node -e 'setInterval(...)'\` (floor) | ${f(bare.vmRss)} | ${f(bare.pss)} | ${f(bare.private)} |`,
].join('\n');
const report = `# Sandbox agent: exec round trip and idle memory

Date: ${new Date().toISOString()}

Command: \`pnpm --filter @openshell/sandbox-agent build && node bench/agent-exec.mjs\` (as root)

Machine: ${cpus()[0]?.model.trim() ?? 'unknown'}, ${cpus().length} cores, Linux ${release()}, Node ${process.version}.
1-minute load average ${f(loadBefore)} before, ${f(loadAfter)} after (other jobs share this machine;
compare rows of one run).

Agent in file mode outside bubblewrap; every process runs as uid ${UID} through the native launcher
(Landlock hard_requirement, seccomp). Round trip = ExecSession written on the control socket →
ProcessExited received, ${RUNS} sequential runs after ${WARMUP} warm-ups. Agent start-up (spawn →
control socket listening, incl. the kernel probe): ${results.map((r) => `${f(r.startupMs)} ms on ${label(r)}`).join(', ')}.

${timing}

${memory}

Targets (DESIGN §3): exec on a running agent ≤ 25 ms p50 (prototype 2.3 ms); idle agent ~6 MB
private (prototype VmRSS 42 MB).
`;
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/agent-exec.md'), report);
console.log(report);
