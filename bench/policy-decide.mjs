// Policy decision cost versus a loopback TCP connect (the cheapest thing a proxy does per
// connection). Goal: one decision < 1% of one loopback connect+accept.
//
//   pnpm --filter @openshell/policy-schema build && node bench/policy-decide.mjs
//
// Builds a large policy (200 network policies × 20 endpoints × 20 binaries: exact and
// wildcard hosts, L4 and rest endpoints with rules), then measures compile time, warm L4
// and L7 decisions (p50 per decision from batches, and throughput), and in the same run a
// loopback connect+accept yardstick. Prints a table and writes bench/results/policy-decide.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { writeSummary } from './lib/summary.mjs';
import { createServer, connect } from 'node:net';
import { cpus, loadavg, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compilePolicy, decide } from '../packages/policy-schema/dist/index.js';

const POLICIES = 200;
const ENDPOINTS = 20;
const BINARIES = 20;
const BATCH = 200;
const BATCHES = 2000;
const CONNECTS = 3000;
const LOAD_BEFORE = Number(loadavg()[0].toFixed(2));

function hostOf(p, e) {
  switch (e % 4) {
    case 0:
      return `*.svc${e}.tenant${p}.example.com`;
    case 1:
      return `**.deep${e}.tenant${p}.test`;
    default:
      return `api${e}.tenant${p}.example.com`;
  }
}

function endpointOf(p, e) {
  const rest = e % 2 === 0;
  return {
    host: hostOf(p, e),
    ports: e % 3 === 0 ? [80, 443] : [443],
    ...(rest ? { protocol: 'rest' } : {}),
    tls: 'auto',
    enforcement: 'enforce',
    rules: rest
      ? [
          { method: 'GET', path: '/repos/**' },
          { method: 'POST', path: '/repos/*/*/issues' },
          { method: 'GET', path: '/search/code', query: { q: ['repo:*'] } },
          { method: 'PUT', path: '/user/starred/*/*' },
          { method: 'GET', path: '/**/info/refs*' },
        ]
      : [],
    deny_rules: rest
      ? [
          { method: 'DELETE', path: '/repos/**' },
          { method: 'GET', path: '/repos/*/*/actions/secrets/**' },
        ]
      : [],
    allowed_ips: [],
    allow_encoded_slash: false,
    request_body_credential_rewrite: false,
  };
}

function binariesOf(p) {
  const list = [];
  for (let b = 0; b < BINARIES; b++) {
    if (b % 5 === 3) list.push({ path: `/opt/tool${p}/*/bin/x${b}` });
    else if (b % 5 === 4) list.push({ path: `/usr/lib/**/node${p}-${b}` });
    else list.push({ path: `/usr/bin/tool${p}-${b}` });
  }
  return list;
}

function buildPolicy() {
  const network_policies = {};
  for (let p = 0; p < POLICIES; p++) {
    const endpoints = [];
    for (let e = 0; e < ENDPOINTS; e++) endpoints.push(endpointOf(p, e));
    network_policies[`policy_${p}`] = {
      id: `policy_${p}`,
      name: `policy-${p}`,
      endpoints,
      binaries: binariesOf(p),
    };
  }
  return {
    version: 1,
    filesystem_policy: { include_workdir: true, read_only: ['/usr'], read_write: ['/sandbox'] },
    landlock: { compatibility: 'best_effort' },
    process: { run_as_user: 'sandbox', run_as_group: 'sandbox' },
    network_policies,
  };
}

/** A deterministic mix: exact-host hits, wildcard hits, ancestor matches, misses. */
function buildRequests(l7) {
  const requests = [];
  let seed = 42;
  const rand = (n) => {
    // 32-bit LCG (Numerical Recipes constants); high bits are the random ones.
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return (seed >>> 8) % n;
  };
  const targets = [
    '/repos/o/r',
    '/repos/o/r/issues',
    '/search/code?q=repo:o/r',
    '/org/r.git/info/refs?service=git-upload-pack',
    '/admin',
    '/repos/o/r/actions/secrets/X',
    '/repos/a/../b/%2e%2e/c',
  ];
  const methods = ['GET', 'POST', 'HEAD', 'DELETE', 'PUT'];
  for (let i = 0; i < 1000; i++) {
    const p = rand(POLICIES);
    const e = l7 ? rand(ENDPOINTS / 2) * 2 : rand(ENDPOINTS);
    const kind = e % 4;
    const host =
      kind === 0
        ? `x${i}.svc${e}.tenant${p}.example.com`
        : kind === 1
          ? `a.b.deep${e}.tenant${p}.test`
          : `api${e}.tenant${p}.example.com`;
    const b = rand(BINARIES);
    const binary =
      b % 5 === 3
        ? `/opt/tool${p}/v1/bin/x${b}`
        : b % 5 === 4
          ? `/usr/lib/a/b/node${p}-${b}`
          : `/usr/bin/tool${p}-${b}`;
    const miss = rand(10);
    const req = {
      host: miss === 0 ? `unknown${i}.example.net` : host,
      port: 443,
      binary: miss === 1 ? '/usr/bin/python3' : miss === 2 ? '/bin/bash' : binary,
      ancestors: miss === 2 ? [binary, '/sbin/init'] : ['/bin/bash', '/sbin/init'],
    };
    if (l7) {
      req.method = methods[rand(methods.length)];
      req.target = targets[rand(targets.length)];
    }
    requests.push(req);
  }
  return requests;
}

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

function measureDecisions(compiled, requests) {
  const actions = { allow: 0, deny: 0, audit: 0 };
  for (let i = 0; i < 200_000; i++) decide(compiled, requests[i % requests.length]);
  const perDecision = [];
  let k = 0;
  const start = process.hrtime.bigint();
  for (let batch = 0; batch < BATCHES; batch++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) {
      const decision = decide(compiled, requests[k++ % requests.length]);
      actions[decision.action]++;
    }
    perDecision.push(Number(process.hrtime.bigint() - t0) / BATCH);
  }
  const totalNs = Number(process.hrtime.bigint() - start);
  perDecision.sort((a, b) => a - b);
  return {
    p50: percentile(perDecision, 0.5),
    p99: percentile(perDecision, 0.99),
    perSecond: (BATCH * BATCHES) / (totalNs / 1e9),
    actions,
  };
}

async function measureLoopbackConnect() {
  let onAccept = null;
  const server = createServer((socket) => {
    socket.destroy();
    onAccept?.();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const once = () =>
    new Promise((resolve, reject) => {
      let pending = 2;
      const t0 = process.hrtime.bigint();
      const done = () => {
        if (--pending === 0) resolve(Number(process.hrtime.bigint() - t0));
      };
      onAccept = done;
      const client = connect(port, '127.0.0.1', () => {
        client.destroy();
        done();
      });
      client.on('error', reject);
    });
  for (let i = 0; i < 300; i++) await once();
  const samples = [];
  for (let i = 0; i < CONNECTS; i++) samples.push(await once());
  server.close();
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

const policy = buildPolicy();
const compileMs = [];
let compiled;
for (let i = 0; i < 5; i++) {
  const t0 = process.hrtime.bigint();
  compiled = compilePolicy(policy);
  compileMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
compileMs.sort((a, b) => a - b);
const l4 = measureDecisions(compiled, buildRequests(false));
const l7 = measureDecisions(compiled, buildRequests(true));
// The floor: one endpoint, the same allowed request over and over (everything in cache).
const small = compilePolicy({
  ...policy,
  network_policies: {
    only: { id: 'only', name: 'only', endpoints: [endpointOf(0, 2)], binaries: binariesOf(0) },
  },
});
const floorL4 = { host: 'api2.tenant0.example.com', port: 443, binary: '/usr/bin/tool0-0' };
const floor4 = measureDecisions(small, [floorL4]);
const floor7 = measureDecisions(small, [{ ...floorL4, method: 'GET', target: '/repos/o/r' }]);
const tcp = await measureLoopbackConnect();

const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (ns) => `${fmt((ns / tcp.p50) * 100, 2)} %`;
const rows = [
  [
    'policy size',
    `${POLICIES} policies × ${ENDPOINTS} endpoints × ${BINARIES} binaries (${POLICIES * ENDPOINTS} endpoints)`,
  ],
  ['compilePolicy (median of 5)', `${fmt(compileMs[2], 1)} ms`],
  ['L4 decide p50 / p99 per decision', `${fmt(l4.p50)} ns / ${fmt(l4.p99)} ns`],
  ['L4 decisions/s', fmt(l4.perSecond)],
  ['L4 mix (allow/deny/audit)', `${l4.actions.allow}/${l4.actions.deny}/${l4.actions.audit}`],
  ['L7 decide p50 / p99 per decision', `${fmt(l7.p50)} ns / ${fmt(l7.p99)} ns`],
  ['L7 decisions/s', fmt(l7.perSecond)],
  ['L7 mix (allow/deny/audit)', `${l7.actions.allow}/${l7.actions.deny}/${l7.actions.audit}`],
  [
    'floor: 1-endpoint policy, same allowed request, L4 / L7 p50',
    `${fmt(floor4.p50)} ns / ${fmt(floor7.p50)} ns`,
  ],
  [
    'loopback connect+accept p50 / p99',
    `${fmt(tcp.p50 / 1000, 1)} µs / ${fmt(tcp.p99 / 1000, 1)} µs`,
  ],
  ['one L4 decision as % of one loopback connect (goal < 1 %)', pct(l4.p50)],
  ['one L7 decision as % of one loopback connect (goal < 1 %)', pct(l7.p50)],
];
const table = ['| metric | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join(
  '\n',
);
const cpu = cpus();
const machine = `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${platform()} ${release()}, Node ${process.version}`;
const command = 'pnpm --filter @openshell/policy-schema build && node bench/policy-decide.mjs';
console.log(table);
const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'policy-decide.md');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `# Policy decision cost\n\nDate: ${new Date().toISOString()}\n\nMachine: ${machine}\n\n` +
    `Load average at the end of the run (1/5/15 min): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')} ` +
    `(the machine is shared; decisions and connects are measured in the same run, so the ratio is what to compare)\n\n` +
    `Command: \`${command}\`\n\n` +
    `p50 per decision is measured over batches of ${BATCH} warm decisions (${BATCHES} batches) on a mix of\n` +
    `1000 requests: exact and wildcard host hits, glob and ancestor binary matches, host and binary\n` +
    `misses; L7 requests add method, path (incl. dot segments) and query rules.\n\n${table}\n`,
);
writeSummary('policy-decide', {
  command: 'node bench/policy-decide.mjs',
  loadBefore: LOAD_BEFORE,
  rows: [
    {
      metric: `L4 decision p50, ${String(POLICIES * ENDPOINTS)}-endpoint policy`,
      ours: l4.p50,
      unit: 'ns',
      better: 'lower',
      peer: { name: 'yardstick: one loopback connect+accept', value: tcp.p50, yardstick: true },
      goal: '< 1 % of a connect',
      goalMet: l4.p50 < tcp.p50 / 100,
    },
    {
      metric: 'L7 decision p50 (method, path, query)',
      ours: l7.p50,
      unit: 'ns',
      better: 'lower',
      peer: { name: 'yardstick: one loopback connect+accept', value: tcp.p50, yardstick: true },
      goal: '< 1 % of a connect',
      goalMet: l7.p50 < tcp.p50 / 100,
    },
    {
      metric: 'L4 decisions per second, one core',
      ours: l4.perSecond,
      unit: '/s',
      better: 'higher',
      note: 'no other policy engine of this kind runs here',
    },
  ],
});
console.log(`\nwritten to ${out}`);
