// Gateway benchmark (issue #5): `policy set --wait` end to end, 50 sandboxes created and
// deleted in parallel, and the daemon's memory with 50 sandboxes running.
//
// Runs the real daemon (packages/gateway/dist/bin.js) on addresses and names of its own, talks
// to it over its mTLS API like the CLI does, and removes everything afterwards. Root only.
//
//   pnpm build && node bench/gateway.mjs [--sandboxes 50] [--sets 40]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, rmdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, cpus, release } from 'node:os';
import { writeSummary } from './lib/summary.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const requireFromProto = createRequire(join(root, 'proto', 'package.json'));
const grpc = requireFromProto('@grpc/grpc-js');
const proto = await import(join(root, 'proto', 'dist', 'src', 'index.js'));

const { values } = parseArgs({
  options: {
    sandboxes: { type: 'string', default: '50' },
    sets: { type: 'string', default: '40' },
  },
});
const SANDBOXES = Number(values.sandboxes);
const SETS = Number(values.sets);
const LOAD_BEFORE = Number(loadavg()[0].toFixed(2));
const NAMES = { prefix: 'gbn', service: '10.239.24.1', pool: '10.239.25.0/24', uidBase: 239_250 };
const PORTS = { api: 27770, http: 27771, supervisor: 27772, proxy: 27773 };

if (process.getuid() !== 0) {
  process.stderr.write('bench/gateway.mjs needs root (the local driver creates namespaces)\n');
  process.exit(2);
}

const stateDir = mkdtempSync('/var/tmp/openshell-bench-gw-');
const pki = join(stateDir, 'gateway', 'pki');
const daemon = spawn(
  process.execPath,
  [
    join(root, 'packages/gateway/dist/bin.js'),
    ...['--state-dir', stateDir, '--port', String(PORTS.api), '--http-port', String(PORTS.http)],
    ...['--service-address', NAMES.service, '--address-pool', NAMES.pool],
    ...['--supervisor-port', String(PORTS.supervisor), '--proxy-port', String(PORTS.proxy)],
    ...['--uid-base', String(NAMES.uidBase), '--name-prefix', NAMES.prefix],
    ...['--cgroup-parent', `openshell-bench-${NAMES.prefix}`],
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let daemonLog = '';
daemon.stderr.on('data', (chunk) => (daemonLog += chunk));

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const ms = (n) => `${n.toFixed(1)} ms`;

async function waitForDaemon() {
  const stateFile = join(stateDir, 'gateway', 'gateway.json');
  for (let i = 0; i < 600; i += 1) {
    try {
      if (JSON.parse(readFileSync(stateFile, 'utf8')).pid === daemon.pid) return;
    } catch {
      // not yet
    }
    if (daemon.exitCode !== null) throw new Error(`daemon exited:\n${daemonLog}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`daemon did not start:\n${daemonLog}`);
}

function rssKb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

function cleanup(client) {
  try {
    client?.close();
  } catch {
    // closing twice is fine
  }
  daemon.kill('SIGTERM');
  const proxyPid = Number(readFileSync(join(stateDir, 'proxy', 'proxy.pid'), 'utf8').trim() || 0);
  try {
    if (proxyPid > 0) process.kill(proxyPid, 'SIGKILL');
  } catch {
    // gone
  }
  try {
    execFileSync('ip', ['addr', 'del', `${NAMES.service}/32`, 'dev', 'lo'], { stdio: 'ignore' });
  } catch {
    // not there
  }
  rmSync(stateDir, { recursive: true, force: true });
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    try {
      rmdirSync(join('/sys/fs/cgroup', hierarchy, `openshell-bench-${NAMES.prefix}`));
    } catch {
      // absent
    }
  }
}

let client;
try {
  await waitForDaemon();
  const creds = grpc.credentials.createSsl(
    readFileSync(join(pki, 'ca.pem')),
    readFileSync(join(pki, 'client.key')),
    readFileSync(join(pki, 'client.pem')),
  );
  client = new proto.OpenShellClient(`127.0.0.1:${PORTS.api}`, creds);
  const call = (method, request) =>
    new Promise((resolve, reject) =>
      client[method](request, (error, response) => (error ? reject(error) : resolve(response))),
    );
  const spec = { providers: [], env: {}, command: [], tty: false, deleteOnExit: false };
  const watch = client.watchSandboxes({ labelSelector: {}, includeInitial: false });
  const readyWaiters = new Map();
  watch.on('data', (event) => {
    const s = event.sandbox;
    if (s === undefined) return;
    const waiter = readyWaiters.get(s.name);
    if (
      waiter &&
      (s.phase === proto.SandboxPhase.SANDBOX_PHASE_READY ||
        s.phase === proto.SandboxPhase.SANDBOX_PHASE_ERROR)
    ) {
      readyWaiters.delete(s.name);
      waiter(s);
    }
  });
  watch.on('error', () => undefined);
  const whenReady = (name) => new Promise((resolve) => readyWaiters.set(name, resolve));

  // 1. policy set --wait, alternating two bodies so every set is a new revision.
  const ready = whenReady('setter');
  await call('createSandbox', { name: 'setter', labels: {}, spec });
  if ((await ready).phase !== proto.SandboxPhase.SANDBOX_PHASE_READY)
    throw new Error('setter failed');
  const bodies = [0, 1].map(
    (i) =>
      `version: 1\nnetwork_policies:\n  p${i}:\n    name: p${i}\n    endpoints:\n      - { host: h${i}.example.com, port: 443, access: read-only }\n    binaries:\n      - path: /usr/bin/curl\n`,
  );
  const setTimes = [];
  for (let i = 0; i < SETS; i += 1) {
    const t0 = performance.now();
    const response = await call('setPolicy', {
      sandbox: 'setter',
      yaml: bodies[i % 2],
      wait: true,
      timeoutMs: 30_000,
    });
    const elapsed = performance.now() - t0;
    if (response.revision.status !== proto.PolicyStatus.POLICY_STATUS_LOADED) {
      throw new Error(`set ${i} ended ${response.revision.status}`);
    }
    if (!response.unchanged) setTimes.push(elapsed);
  }
  setTimes.sort((a, b) => a - b);

  // 2. N sandboxes in parallel.
  const names = Array.from({ length: SANDBOXES }, (_, i) => `par-${i}`);
  const t0 = performance.now();
  const outcomes = await Promise.all(
    names.map(async (name) => {
      const done = whenReady(name);
      try {
        await call('createSandbox', { name, labels: {}, spec });
        return await done;
      } catch (error) {
        readyWaiters.delete(name);
        return { phase: -1, phaseReason: String(error) };
      }
    }),
  );
  const createWall = performance.now() - t0;
  const createFailures = outcomes.filter((s) => s.phase !== proto.SandboxPhase.SANDBOX_PHASE_READY);
  const gatewayRss = rssKb(daemon.pid);
  const proxyPid = Number(readFileSync(join(stateDir, 'proxy', 'proxy.pid'), 'utf8').trim());
  const proxyRss = rssKb(proxyPid);
  const t1 = performance.now();
  const deletes = await Promise.allSettled(
    names.map((name) => call('deleteSandbox', { sandbox: name })),
  );
  const deleteWall = performance.now() - t1;
  const deleteFailures = deletes.filter((d) => d.status === 'rejected');
  await call('deleteSandbox', { sandbox: 'setter' });
  watch.cancel();

  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const table = [
    '| measurement | ours | OpenShell (by design) |',
    '|---|---|---|',
    `| \`policy set --wait\` p50 (${setTimes.length} sets) | ${ms(percentile(setTimes, 50))} | ~5–11 s (10 s poll + 1 s wait polling; not measured here) |`,
    `| \`policy set --wait\` p95 | ${ms(percentile(setTimes, 95))} | up to ~11 s |`,
    `| create ${SANDBOXES} sandboxes in parallel → all Ready (wall) | ${ms(createWall)}, ${createFailures.length} failed | — |`,
    `| delete ${SANDBOXES} sandboxes in parallel (wall) | ${ms(deleteWall)}, ${deleteFailures.length} failed | — |`,
    `| gateway RSS with ${SANDBOXES} sandboxes running | ${(gatewayRss / 1024).toFixed(1)} MiB | — |`,
    `| egress proxy RSS with ${SANDBOXES} sandboxes | ${(proxyRss / 1024).toFixed(1)} MiB | — |`,
  ].join('\n');
  const report = `# Gateway benchmark

Command: \`pnpm build && node bench/gateway.mjs --sandboxes ${SANDBOXES} --sets ${SETS}\` (root)
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, kernel ${release()}, load average at the end: ${load}
Date: ${new Date().toISOString()}

${table}

\`policy set --wait\` is measured by the client from request to the response that reports
the revision Loaded, i.e. stored, pushed to the proxy and the agent over their streams, and
acknowledged by both. OpenShell's column is its documented design (the sandbox polls every
10 s; the CLI polls every 1 s while waiting), not a measurement.
${createFailures.length > 0 ? `\nCreate failures:\n${createFailures.map((f) => `- ${f.phaseReason}`).join('\n')}\n` : ''}`;
  writeFileSync(join(root, 'bench/results/gateway.md'), report);
  writeSummary('gateway', {
    command: `node bench/gateway.mjs --sandboxes ${SANDBOXES} --sets ${SETS}`,
    loadBefore: LOAD_BEFORE,
    rows: [
      {
        metric: 'policy propagation: `policy set --wait` until proxy and agent acked, p50',
        ours: percentile(setTimes, 50),
        unit: 'ms',
        better: 'lower',
        goal: '≤ 150 ms',
        goalMet: percentile(setTimes, 50) <= 150,
        note: 'OpenShell cannot run here; by design it polls every 10 s',
      },
      {
        metric: `${SANDBOXES} sandboxes created in parallel → all Ready (wall)`,
        ours: createWall,
        unit: 'ms',
        better: 'lower',
        goal: '0 failed',
        goalMet: createFailures.length === 0,
        note: `${String(createFailures.length)} failed`,
      },
      {
        metric: `gateway + proxy RSS with ${SANDBOXES} sandboxes`,
        ours: (gatewayRss + proxyRss) / 1024,
        unit: 'MiB',
        better: 'lower',
      },
    ],
  });
  process.stdout.write(`${report}\n`);
} catch (error) {
  process.stderr.write(
    `bench failed: ${error?.stack ?? error}\n--- daemon log ---\n${daemonLog}\n`,
  );
  process.exitCode = 1;
} finally {
  cleanup(client);
}
