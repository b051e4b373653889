// The docker compute driver (Podman's Docker-API socket) beside the local driver and the
// engine's own floor, in one loop so all three see the same load:
// - docker driver: create → first exec output (`sh -c 'echo ok'`): createDockerDriver +
//   startSandboxRuntime, the agent (host node, bound read-only) dials a minimal Supervisor
//   here, which answers hello with the policy, the main process and the exec; the clock stops
//   at that exec's first output byte; then delete (timed separately).
// - local driver: the same create → first output → delete.
// - floor: `podman run --rm --network none IMAGE true` (CLI spawn → exit), what any
//   container start costs on this engine before a sandbox does anything.
// 15 runs after 2 warm-ups. The image is a two-binary root filesystem (dash, true, sleep + their libc) made
// from this host's files and imported with `podman import` (nothing is pulled).
//
//   pnpm --filter @openshell/gateway build && node bench/docker-driver.mjs   (as root, with
//   `podman system service` on /run/podman/podman.sock — scripts/setup.sh starts it)
//
// Writes bench/results/docker-driver.md. Uses the docker-driver test layout: 10.239.38.1 on
// lo, pool 10.239.39.0/24 split between the two drivers, uids from 239390, prefix `edk`.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSummary } from './lib/summary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const gatewayDir = join(root, 'packages/gateway');
const requireFromGateway = createRequire(join(gatewayDir, 'package.json'));
const { Server, ServerCredentials, status } = requireFromGateway('@grpc/grpc-js');
const { SupervisorService } = await import(join(root, 'proto/dist/src/index.js'));
const { createDockerDriver, createLocalDriver, startSandboxRuntime, planFirstContact } =
  await import(join(gatewayDir, 'dist/index.js'));
const { DEFAULT_POLICY } = await import(join(root, 'packages/policy-schema/dist/index.js'));

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const WARMUP = 2;
const SERVICE = '10.239.38.1';
const IMAGE = 'localhost/openshell-bench-edk:dash';
const now = () => Number(process.hrtime.bigint()) / 1e6;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), min: sorted[0] };
}
const ms = (value) => value.toFixed(0);

/** A merged-/usr root with /bin/sh (dash) and exactly its libraries, imported as IMAGE. */
function importImage(scratch) {
  const rootfs = join(scratch, 'rootfs');
  for (const dir of ['usr/bin', 'usr/lib', 'usr/lib64', 'etc', 'tmp', 'sandbox']) {
    mkdirSync(join(rootfs, dir), { recursive: true });
  }
  for (const link of ['bin', 'lib', 'lib64']) symlinkSync(`usr/${link}`, join(rootfs, link));
  execFileSync('cp', ['-L', '/usr/bin/dash', join(rootfs, 'usr/bin/sh')]);
  for (const tool of ['true', 'sleep']) {
    execFileSync('cp', ['-L', `/usr/bin/${tool}`, join(rootfs, 'usr/bin', tool)]);
  }
  const ldd = execFileSync('ldd', ['/usr/bin/dash', '/usr/bin/true', '/usr/bin/sleep'], {
    encoding: 'utf8',
  });
  for (const [, lib] of ldd.matchAll(/(\/\S+)\s+\(0x[0-9a-f]+\)/g)) {
    const target = join(rootfs, lib.startsWith('/usr/') ? lib : `/usr${lib}`);
    mkdirSync(dirname(target), { recursive: true });
    execFileSync('cp', ['-L', lib, target]);
  }
  execFileSync('tar', ['-C', rootfs, '-cf', join(scratch, 'rootfs.tar'), '.']);
  execFileSync('podman', ['import', join(scratch, 'rootfs.tar'), IMAGE], { stdio: 'ignore' });
}

/** A Supervisor server: admits by token, answers hello, and routes agent events to waiters. */
async function startSupervisor(tls) {
  const peers = new Map();
  const server = new Server();
  server.addService(SupervisorService, {
    session(call) {
      const auth = String(call.metadata.get('authorization')[0] ?? '');
      const peer = [...peers.values()].find((p) => auth === `Bearer ${p.token}`);
      if (peer === undefined) {
        call.emit('error', { code: status.UNAUTHENTICATED, details: 'unknown token' });
        return;
      }
      call.on('data', (event) => {
        if (event.payload?.$case === 'hello') {
          const { policyHash, policyYaml, main } = peer.contact;
          call.write({
            payload: {
              $case: 'policyPush',
              value: { version: 1, hash: policyHash, yaml: policyYaml },
            },
          });
          call.write({
            payload: {
              $case: 'spec',
              value: { argv: [...main], env: {}, workdir: '', tty: false, user: '', group: '' },
            },
          });
          call.write({ payload: peer.exec });
        }
        if (
          event.payload?.$case === 'sessionOutput' &&
          event.payload.value.sessionId === peer.sessionId
        ) {
          peer.onOutput(now());
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync(
      `${SERVICE}:0`,
      ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  return { port, peers, stop: () => server.forceShutdown() };
}

const loadBefore = loadavg();
const scratch = mkdtempSync('/var/tmp/openshell-bench-docker-');
const caDir = join(scratch, 'ca');
mkdirSync(caDir);
execFileSync(
  'openssl',
  [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-days', '1', '-subj', '/CN=bench', '-addext', `subjectAltName=IP:${SERVICE}`],
    ...['-keyout', join(scratch, 'key.pem'), '-out', join(caDir, 'ca.pem')],
  ],
  { stdio: 'ignore' },
);
execFileSync('ip', ['addr', 'replace', `${SERVICE}/32`, 'dev', 'lo']);
importImage(scratch);
const supervisor = await startSupervisor({
  cert: readFileSync(join(caDir, 'ca.pem')),
  key: readFileSync(join(scratch, 'key.pem')),
});
const docker = await createDockerDriver({
  stateDir: join(scratch, 'docker'),
  dockerHost: 'unix:///run/podman/podman.sock',
  addressPool: '10.239.39.0/25',
  uidBase: 239_390,
  namePrefix: 'edk',
});
const local = await createLocalDriver({
  stateDir: join(scratch, 'local'),
  addressPool: '10.239.39.128/25',
  uidBase: 239_430,
  namePrefix: 'edk',
  cgroupParent: 'openshell-test-edk',
});
const agent = { root, entry: 'packages/sandbox-agent/dist/agent.bundle.mjs' };
const main = ['sleep', 'infinity'];

/** One create → first output of `echo ok` → delete on `driver`, timed. */
async function createToFirstOutput(driver, id, from) {
  const token = randomBytes(24).toString('hex');
  const sessionId = randomUUID();
  const started = now();
  const output = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${id}: no output in 30 s`)), 30_000);
    supervisor.peers.set(token, {
      token,
      sessionId,
      contact: planFirstContact(DEFAULT_POLICY, main),
      exec: {
        $case: 'exec',
        value: {
          sessionId,
          process: {
            ...{ argv: ['sh', '-c', 'echo ok'], env: {}, workdir: '', tty: false },
            ...{ user: '', group: '' },
          },
        },
      },
      onOutput: (at) => {
        clearTimeout(timer);
        resolve(at);
      },
    });
  });
  await startSandboxRuntime({
    driver,
    id,
    token,
    main,
    agent,
    supervisor: { address: SERVICE, port: supervisor.port, caDir },
    proxy: { address: SERVICE, port: 3128 },
    ...(from === undefined ? {} : { from }),
  });
  const elapsed = (await output) - started;
  supervisor.peers.delete(token);
  const deleteStart = now();
  await driver.delete(id);
  return { elapsed, deleted: now() - deleteStart };
}

function timePodmanRun() {
  const started = now();
  const result = spawnSync('podman', ['run', '--rm', '--network', 'none', IMAGE, 'true']);
  if (result.status !== 0) throw new Error(`podman run failed: ${String(result.stderr)}`);
  return now() - started;
}

const rows = { docker: [], dockerDelete: [], local: [], localDelete: [], podman: [] };
try {
  for (let i = 0; i < RUNS + WARMUP; i++) {
    const d = await createToFirstOutput(docker, `d${String(i)}`, IMAGE);
    const l = await createToFirstOutput(local, `l${String(i)}`);
    const p = timePodmanRun();
    if (i < WARMUP) continue;
    rows.docker.push(d.elapsed);
    rows.dockerDelete.push(d.deleted);
    rows.local.push(l.elapsed);
    rows.localDelete.push(l.deleted);
    rows.podman.push(p);
  }
} finally {
  for (const driver of [docker, local]) {
    for (const handle of await driver.list()) await driver.delete(handle.id).catch(() => false);
  }
  supervisor.stop();
  spawnSync('podman', ['rmi', IMAGE], { stdio: 'ignore' });
  rmSync(scratch, { recursive: true, force: true });
}
const loadAfter = loadavg();
const s = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, summarize(v)]));
const engine = docker.engine;
const table = [
  '| what | p50 ms | p95 ms | min ms |',
  '|---|---|---|---|',
  `| docker driver: create → first exec output | ${ms(s.docker.p50)} | ${ms(s.docker.p95)} | ${ms(s.docker.min)} |`,
  `| local driver: create → first exec output | ${ms(s.local.p50)} | ${ms(s.local.p95)} | ${ms(s.local.min)} |`,
  `| \`podman run --rm --network none IMAGE true\` (floor) | ${ms(s.podman.p50)} | ${ms(s.podman.p95)} | ${ms(s.podman.min)} |`,
  `| docker driver: delete | ${ms(s.dockerDelete.p50)} | ${ms(s.dockerDelete.p95)} | ${ms(s.dockerDelete.min)} |`,
  `| local driver: delete | ${ms(s.localDelete.p50)} | ${ms(s.localDelete.p95)} | ${ms(s.localDelete.min)} |`,
];
const model = cpus()[0]?.model ?? 'unknown CPU';
const text = `# docker driver: create → first command

Command: \`node bench/docker-driver.mjs\` (as root; ${String(RUNS)} runs after ${String(WARMUP)} warm-ups, the three
measurements interleaved in one loop so they see the same load).

Machine: ${model}, ${String(cpus().length)} cores, Linux ${release()}, Node ${process.version};
engine ${engine} (runc, cgroupfs, cgroup v1). Load average (1 min) ${loadBefore[0].toFixed(2)} before,
${loadAfter[0].toFixed(2)} after — the machine is shared with other jobs, so absolute numbers
move with it; the rows are comparable with each other.

${table.join('\n')}

- docker driver: Engine API create + start (podman's conmon + runc), \`ip netns attach\` of the
  container's netns, veth + nftables + routes (the local driver's plan), token through the
  start fifo, then the agent (host node via the host loader) dials the supervisor; the clock
  stops at the exec's first output byte. Image: dash, true, sleep + their libc from this host.
- local driver: netns + veth + nftables + bubblewrap, same agent, same exec.
- floor: the podman CLI starting and removing a container that runs \`true\`, no network.
`;
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/docker-driver.md'), text);
writeSummary('docker-driver', {
  command: 'node bench/docker-driver.mjs',
  loadBefore: Number(loadBefore[0].toFixed(2)),
  rows: [
    {
      metric: 'docker driver: sandbox create → first command, p50',
      ours: s.docker.p50,
      unit: 'ms',
      better: 'lower',
      peer: { name: '`podman run --rm IMAGE true` (no network, no agent)', value: s.podman.p50 },
      note: `local driver ${ms(s.local.p50)} ms in the same run`,
    },
  ],
});
process.stdout.write(text);
