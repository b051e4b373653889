// Egress proxy overhead, side by side: direct to the upstream; through openshell-proxy as a
// CONNECT tunnel (L4 only, opaque TLS); through openshell-proxy with TLS termination and L7
// rules (every request decided); through tinyproxy (CONNECT), a C proxy with no policy; and
// through srt's proxy (@anthropic-ai/sandbox-runtime's createHttpProxyServer, allow-all
// filter) as an opaque CONNECT tunnel and with its in-process TLS termination; and through a
// bare Node http server that answers CONNECT with a dial and nothing else (the floor for a
// proxy on Node).
//
//   pnpm --filter @openshell/proxy build && node bench/proxy.mjs
//   BENCH_BASELINE_BIN=/path/to/other/dist/bin.js node bench/proxy.mjs adds another build's rows.
//   Peers: apt-get install -y tinyproxy; npm i -g @anthropic-ai/sandbox-runtime. A missing
//   peer gets a "not installed: <how>" row instead of numbers.
//
// Every proxy runs as its own process (openshell-proxy is the built bin, standalone mode, with
// a --resolve override pointing bench.example.com:443 at the loopback upstream). The upstream
// is a separate Node HTTPS server. The client is a child process of this one (one per row), so
// the proxy identifies it by /proc (socket inode → pid → exe) as it would a sandboxed process.
// Measures, with the paths interleaved: a new connection per request (TCP + CONNECT + TLS +
// GET + close), requests on one kept-alive connection, and bulk download throughput on it.
// Writes bench/results/proxy.md.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { writeSummary } from './lib/summary.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'packages/proxy/dist/bin.js');
// BENCH_BASELINE_BIN: another build's dist/bin.js, measured in the same run as extra
// "[baseline]" rows (before/after); the results are then only printed, not written.
const BASELINE_BIN = process.env.BENCH_BASELINE_BIN;
const NEW_CONNECTIONS = Number(process.env.BENCH_NEW ?? 200);
const KEPT_ALIVE = Number(process.env.BENCH_KEEPALIVE ?? 1000);
const BULK_MB = Number(process.env.BENCH_BULK_MB ?? 256);
const WARMUP = 20;
const HOST = 'bench.example.com';
const NOTES_MARKER = '<!-- notes: kept by bench/proxy.mjs when it rewrites the table above -->';

const dir = mkdtempSync(join(tmpdir(), 'proxy-bench-'));
const children = [];

function openssl(args) {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

function readLine(child) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const i = out.indexOf('\n');
      if (i !== -1) resolve(out.slice(0, i));
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}

const UPSTREAM = `
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
const bulk = Buffer.alloc(1 << 20, 120);
const server = createServer({ key: readFileSync(process.argv[1]), cert: readFileSync(process.argv[2]) }, (req, res) => {
  if (req.url.startsWith('/bulk')) {
    const mb = Number(new URL(req.url, 'https://x').searchParams.get('mb'));
    res.writeHead(200, { 'content-length': mb * bulk.length });
    let left = mb;
    const pump = () => { while (left > 0) { left--; if (!res.write(bulk)) return res.once('drain', pump); } res.end(); };
    return pump();
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
  res.end('ok');
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startUpstream(key, cert) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', UPSTREAM, key, cert], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return Number(await readLine(child));
}

async function startOpenShell(bin, upstreamPort, certFile, l7) {
  const id = `${l7 ? 'l7' : 'l4'}-${children.length}`;
  const policy = join(dir, `${id}.yaml`);
  writeFileSync(
    policy,
    `version: 1
network_policies:
  bench:
    name: bench
    endpoints:
      - host: ${HOST}
        port: 443
${l7 ? '        protocol: rest\n        rules:\n          - allow: { method: GET, path: "/**" }\n' : ''}    binaries:
      - path: ${realpathSync(process.execPath)}
`,
  );
  const child = spawn(
    process.execPath,
    [
      bin,
      '--listen',
      '127.0.0.1:0',
      '--state-dir',
      join(dir, `state-${id}`),
      '--policy',
      policy,
      '--resolve',
      `${HOST}:443=127.0.0.1:${upstreamPort}`,
      '--upstream-ca',
      certFile,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  const line = JSON.parse(await readLine(child));
  return { port: Number(line.address.split(':').at(-1)), caBundle: line.caBundlePath };
}

// srt's proxy module on its own (no sandbox around it): every host allowed, names resolved to
// the loopback upstream (its lookupFor hook, the seam its own address guard uses), and in
// "mitm" mode TLS terminated with an ephemeral CA and re-originated to the upstream.
const SRT = `
const [pkgDir, mode, upstreamCaFile] = process.argv.slice(1);
const { createHttpProxyServer } = await import(pkgDir + '/dist/sandbox/http-proxy.js');
const { createMitmCA } = await import(pkgDir + '/dist/sandbox/mitm-ca.js');
const { readFileSync } = await import('node:fs');
const loopback = () => (hostname, options, callback) =>
  options?.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);
const mitm = mode === 'mitm' ? createMitmCA({}) : undefined;
const server = createHttpProxyServer({
  filter: () => true,
  lookupFor: loopback,
  ...(mitm ? { mitmCA: mitm, tlsTerminateUpstreamCA: readFileSync(upstreamCaFile) } : {}),
});
server.listen(0, '127.0.0.1', () =>
  console.log(JSON.stringify({ port: server.address().port, ca: mitm?.certPem ?? null })),
);
`;

// The floor for any proxy built on Node's http server: Node parses the CONNECT head, the
// target is dialled, 200 is written, bytes are piped. No identity, no policy, no events.
const BARE_NODE = `
const { createServer } = await import('node:http');
const { connect } = await import('node:net');
// No request timeout: a tunnel that outlives it (bulk on a loaded machine) must not be cut.
const server = createServer({ requestTimeout: 0 });
server.on('connect', (req, client, head) => {
  client.on('error', () => client.destroy());
  const [host, port] = [req.url.slice(0, req.url.lastIndexOf(':')), Number(req.url.slice(req.url.lastIndexOf(':') + 1))];
  const upstream = connect({ host, port, noDelay: true, allowHalfOpen: true });
  upstream.on('error', () => client.destroy());
  upstream.once('connect', () => {
    client.write('HTTP/1.1 200 Connection Established\\r\\n\\r\\n');
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startBareNode() {
  const child = spawn(process.execPath, ['--input-type=module', '-e', BARE_NODE], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return Number(await readLine(child));
}

/** The globally installed @anthropic-ai/sandbox-runtime: its directory and version, or null. */
function findSrt() {
  const root = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim();
  if (!root) return null;
  const pkgDir = join(root, '@anthropic-ai/sandbox-runtime');
  if (!existsSync(join(pkgDir, 'dist/sandbox/http-proxy.js'))) return null;
  return {
    pkgDir,
    version: JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version,
  };
}

async function startSrt(srt, mode, certFile) {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', SRT, srt.pkgDir, mode, certFile],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  return JSON.parse(await readLine(child));
}

async function startTinyproxy() {
  if (spawnSync('sh', ['-c', 'command -v tinyproxy']).status !== 0) return null;
  const probe = connect(0);
  probe.destroy();
  const port = 20000 + Math.floor(Math.random() * 20000);
  const conf = join(dir, 'tinyproxy.conf');
  writeFileSync(
    conf,
    `Port ${port}\nListen 127.0.0.1\nTimeout 600\nMaxClients 100\nAllow 127.0.0.1\nLogLevel Critical\n`,
  );
  const child = spawn('tinyproxy', ['-d', '-c', conf], { stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return { port };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('tinyproxy did not start');
}

function tcp(port) {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

function readHead(socket) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.pause();
      const rest = buf.subarray(end + 4);
      if (rest.length) socket.unshift(rest);
      resolve(buf.subarray(0, end).toString('latin1'));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    // A proxy that hangs up without answering must fail the run, not leave it waiting.
    socket.once('end', () =>
      reject(new Error('the proxy closed the connection without answering')),
    );
    socket.resume();
  });
}

/** Reads one response with Content-Length; returns the body length. */
function readResponse(socket) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let need = -1;
    let got = 0;
    const onData = (d) => {
      if (need === -1) {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(head.split('\r\n')[0]));
        need = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        got = buf.length - end - 4;
      } else got += d.length;
      if (got >= need) {
        socket.off('data', onData);
        socket.off('error', reject);
        socket.off('end', onEnd);
        resolve(need);
      }
    };
    // A connection cut mid-response must fail the run, not leave it waiting.
    const onEnd = () => reject(new Error(`connection closed after ${got} of ${need} bytes`));
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', onEnd);
    socket.resume();
  });
}

/** One connection to the upstream (directly or via CONNECT), TLS verified with `secureContext`. */
async function open(target, secureContext) {
  let socket;
  if (target.proxyPort) {
    socket = await tcp(target.proxyPort);
    socket.write(`CONNECT ${target.authority} HTTP/1.1\r\nHost: ${target.authority}\r\n\r\n`);
    const head = await readHead(socket).catch((error) => {
      throw new Error(`CONNECT via port ${target.proxyPort}: ${error.message}`);
    });
    if (!head.startsWith('HTTP/1.1 200') && !head.startsWith('HTTP/1.0 200'))
      throw new Error(`CONNECT refused: ${head}`);
  } else {
    socket = await tcp(target.port);
  }
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({ socket, servername: HOST, secureContext }, () => resolve(tls));
    tls.setNoDelay?.(true);
    tls.once('error', reject);
  });
}

async function get(tls, path) {
  tls.write(`GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  return readResponse(tls);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** 0..n-1 in random order: each path follows a random other one, round after round. */
function shuffled(n) {
  const order = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Milliseconds since `start` (a process.hrtime.bigint()). */
const since = (start) => Number(process.hrtime.bigint() - start) / 1e6;

/**
 * Measures every path, interleaved: one new connection to each path in turn, then one
 * kept-alive request to each, then bulk in four rounds, in a fresh random order each round. Other jobs share this machine
 * and their load comes and goes; interleaving spreads it evenly over the rows, where
 * measuring row after row would charge one burst to whichever row ran during it.
 */
async function measureAll(paths) {
  // If a connection is dropped without an error, the loop empties with a promise pending:
  // say where, rather than exit 13 with no clue.
  let at = 'start';
  process.once('beforeExit', () => process.stderr.write(`measuring client stuck: ${at}\n`));
  // Built once: parsing a CA bundle per connection would dominate the client's own cost.
  const contexts = paths.map((p) => createSecureContext({ ca: p.caPem }));
  const fresh = paths.map(() => []);
  const kept = paths.map(() => []);
  const bulk = paths.map(() => ({ bytes: 0, ms: 0 }));
  for (let i = 0; i < WARMUP + NEW_CONNECTIONS; i++) {
    for (const j of shuffled(paths.length)) {
      at = `new connection ${i} via ${paths[j].name}`;
      const start = process.hrtime.bigint();
      const t = await open(paths[j].target, contexts[j]);
      await get(t, '/small');
      if (i >= WARMUP) fresh[j].push(since(start));
      t.destroy();
      // Let the closed connection's teardown (in the proxy and the upstream) finish before
      // the next path is timed, rather than charge it to whichever path comes next.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  const conns = [];
  for (const [j, p] of paths.entries()) conns.push(await open(p.target, contexts[j]));
  for (let i = 0; i < WARMUP + KEPT_ALIVE; i++) {
    for (const j of shuffled(conns.length)) {
      const conn = conns[j];
      at = `kept-alive request ${i} via ${paths[j].name}`;
      const start = process.hrtime.bigint();
      await get(conn, '/small');
      if (i >= WARMUP) kept[j].push(since(start));
    }
  }
  const rounds = 4;
  for (let r = 0; r < rounds; r++) {
    for (const j of shuffled(conns.length)) {
      const conn = conns[j];
      at = `bulk round ${r} via ${paths[j].name}`;
      const start = process.hrtime.bigint();
      bulk[j].bytes += await get(conn, `/bulk?mb=${Math.ceil(BULK_MB / rounds)}`);
      bulk[j].ms += since(start);
    }
  }
  for (const conn of conns) conn.destroy();
  // Per round, each path against direct (paths[0]) in the same round: robust to load that
  // comes and goes between rounds.
  const added = paths.map((_, j) =>
    fresh[j].map((ms, i) => ms - (fresh[0]?.[i] ?? 0)).sort((a, b) => a - b),
  );
  return paths.map((p, j) => {
    fresh[j].sort((a, b) => a - b);
    kept[j].sort((a, b) => a - b);
    return {
      name: p.name,
      newP50: percentile(fresh[j], 50),
      newP99: percentile(fresh[j], 99),
      addedP50: percentile(added[j], 50),
      keptP50: percentile(kept[j], 50),
      keptP99: percentile(kept[j], 99),
      mbps: bulk[j].bytes / (1 << 20) / (bulk[j].ms / 1000),
    };
  });
}

/** The client's uid: a sandboxed agent runs under its own uid, never the supervisor's. */
const CLIENT_UID = process.getuid?.() === 0 ? 65534 : undefined;

/**
 * Runs `measureAll` in a child process of this one, as a sandboxed agent would call: a
 * process of its own (the proxy walks the caller's parent and children for inherited
 * sockets, and this orchestrator's children are the benchmark's servers and proxies, which
 * no real caller has) under its own uid (as root, uid 65534; each sandbox runs as its own
 * host uid, so the proxy never walks the supervisor's processes).
 */
async function measureInChild(paths) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--measure'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    ...(CLIENT_UID === undefined ? {} : { uid: CLIENT_UID, gid: CLIENT_UID }),
  });
  children.push(child);
  child.stdin.end(JSON.stringify(paths));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the measuring client failed (exit ${code})`);
  return JSON.parse(out);
}

/** The two openshell-proxy rows (L4 tunnel, TLS terminated + L7) for the build at `bin`. */
async function openShellPaths(bin, suffix, upstreamPort, certFile, upstreamCa) {
  const l4 = await startOpenShell(bin, upstreamPort, certFile, false);
  const l7 = await startOpenShell(bin, upstreamPort, certFile, true);
  return [
    {
      name: `openshell-proxy, CONNECT tunnel (L4)${suffix}`,
      target: { proxyPort: l4.port, authority: `${HOST}:443` },
      caPem: upstreamCa,
    },
    {
      name: `openshell-proxy, TLS terminated + L7 rules${suffix}`,
      target: { proxyPort: l7.port, authority: `${HOST}:443` },
      caPem: readFileSync(l7.caBundle, 'utf8'),
    },
  ];
}

async function main() {
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
    '-subj',
    '/CN=bench',
    '-days',
    '2',
    '-addext',
    `subjectAltName=DNS:${HOST}`,
  ]);
  const certFile = join(dir, 'cert.pem');
  const upstreamCa = readFileSync(certFile, 'utf8');
  const load = [loadavg()[0]];
  const upstreamPort = await startUpstream(join(dir, 'key.pem'), certFile);
  const tiny = await startTinyproxy();
  const bareNodePort = await startBareNode();
  const srt = findSrt();
  const srtL4 = srt && (await startSrt(srt, 'tunnel', certFile));
  const srtMitm = srt && (await startSrt(srt, 'mitm', certFile));
  const SRT_MISSING = 'npm i -g @anthropic-ai/sandbox-runtime';
  const paths = [
    { name: 'direct (no proxy)', target: { port: upstreamPort }, caPem: upstreamCa },
    tiny
      ? {
          name: 'tinyproxy 1.11, CONNECT',
          target: { proxyPort: tiny.port, authority: `127.0.0.1:${upstreamPort}` },
          caPem: upstreamCa,
        }
      : { name: 'tinyproxy, CONNECT', missing: 'apt-get install -y tinyproxy' },
    {
      name: `bare Node ${process.version} http server, CONNECT (floor for a Node proxy)`,
      target: { proxyPort: bareNodePort, authority: `127.0.0.1:${upstreamPort}` },
      caPem: upstreamCa,
    },
    srtL4
      ? {
          name: `srt ${srt.version} proxy, CONNECT tunnel`,
          target: { proxyPort: srtL4.port, authority: `${HOST}:${upstreamPort}` },
          caPem: upstreamCa,
        }
      : { name: 'srt proxy, CONNECT tunnel', missing: SRT_MISSING },
    srtMitm
      ? {
          name: `srt ${srt.version} proxy, TLS terminated`,
          target: { proxyPort: srtMitm.port, authority: `${HOST}:${upstreamPort}` },
          caPem: srtMitm.ca,
        }
      : { name: 'srt proxy, TLS terminated', missing: SRT_MISSING },
    ...(await openShellPaths(BIN, '', upstreamPort, certFile, upstreamCa)),
    ...(BASELINE_BIN
      ? await openShellPaths(BASELINE_BIN, ' [baseline]', upstreamPort, certFile, upstreamCa)
      : []),
  ];
  const measured = await measureInChild(paths.filter((p) => !p.missing));
  const rows = paths.map((p) => (p.missing ? p : measured.find((m) => m.name === p.name)));
  load.push(loadavg()[0]);
  const fmt = (n, d = 2) => n.toFixed(d);

  const table = [
    '| path | new connection p50 | p99 | added vs direct, p50 of per-round differences | kept-alive request p50 | p99 | bulk MiB/s |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      r.missing
        ? `| ${r.name} | not installed: \`${r.missing}\` | | | | | |`
        : `| ${r.name} | ${fmt(r.newP50)} | ${fmt(r.newP99)} | ${fmt(r.addedP50)} | ${fmt(r.keptP50, 3)} | ${fmt(r.keptP99, 3)} | ${fmt(r.mbps, 0)} |`,
    ),
  ].join('\n');
  const direct = rows[0];
  const ours = rows.find((r) => r.name === 'openshell-proxy, CONNECT tunnel (L4)');
  const oursL7 = rows.find((r) => r.name === 'openshell-proxy, TLS terminated + L7 rules');
  const goals = [
    `CONNECT adds ${fmt(ours.addedP50)} ms p50 per new connection (per-round difference to direct; goal ≤ 0.5 ms)`,
    `an L7 request on a kept-alive terminated connection adds ${fmt(oursL7.keptP50 - direct.keptP50, 3)} ms p50 (goal ≤ 1 ms)`,
    `bulk throughput ${fmt((100 * ours.mbps) / direct.mbps, 0)}% of direct as a tunnel, ${fmt((100 * oursL7.mbps) / direct.mbps, 0)}% terminated (goal ≥ 50%)`,
  ];
  const tinyproxy = rows.find((r) => !r.missing && r.name.startsWith('tinyproxy'));
  const srtTunnel = rows.find(
    (r) => !r.missing && r.name.endsWith('proxy, CONNECT tunnel') && r.name.startsWith('srt'),
  );
  const srtTls = rows.find(
    (r) => !r.missing && r.name.startsWith('srt') && r.name.endsWith('TLS terminated'),
  );
  const peerOf = (row, value) =>
    row === undefined ? {} : { peer: { name: row.name, value: value(row) } };
  writeSummary('proxy', {
    command: 'node bench/proxy.mjs',
    loadBefore: Number(load[0].toFixed(2)),
    rows: [
      {
        metric: 'CONNECT tunnel: added per new connection vs direct, p50',
        ours: ours.addedP50,
        unit: 'ms',
        better: 'lower',
        ...peerOf(tinyproxy, (r) => r.addedP50),
        goal: '≤ 0.5 ms',
        goalMet: ours.addedP50 <= 0.5,
        note: srtTunnel === undefined ? undefined : `srt tunnel ${fmt(srtTunnel.addedP50)} ms`,
      },
      {
        metric: 'L7 request on a kept-alive TLS-terminated connection: added vs direct, p50',
        ours: oursL7.keptP50 - direct.keptP50,
        unit: 'ms',
        better: 'lower',
        ...peerOf(srtTls, (r) => r.keptP50 - direct.keptP50),
        goal: '≤ 1 ms',
        goalMet: oursL7.keptP50 - direct.keptP50 <= 1,
      },
      {
        metric: 'bulk throughput through the CONNECT tunnel, share of direct',
        ours: (100 * ours.mbps) / direct.mbps,
        unit: '%',
        better: 'higher',
        ...peerOf(tinyproxy, (r) => (100 * r.mbps) / direct.mbps),
        goal: '≥ 50 %',
        goalMet: ours.mbps >= direct.mbps / 2,
      },
    ],
  });
  const cpu = cpus()[0]?.model.trim() ?? 'unknown';
  const md = `# Egress proxy overhead

Date: ${new Date().toISOString()}

Command: \`pnpm --filter @openshell/proxy build && node bench/proxy.mjs\`
(${NEW_CONNECTIONS} new connections, ${KEPT_ALIVE} kept-alive requests, ${BULK_MB} MiB bulk per path; ${WARMUP} warm-up each; interleaved)

Machine: ${cpu}, ${cpus().length} cores, ${platform()} ${release()}, Node ${process.version}.
1-minute load average ${load.map((l) => l.toFixed(1)).join(' before, ')} after (other jobs share this
machine: compare rows of one run).

"New connection" = TCP connect + CONNECT + TLS handshake (verified) + \`GET /small\` + response,
one after another; times in ms. The upstream is a Node HTTPS server on loopback. For the
openshell-proxy rows the proxy identifies the client by /proc on every new connection (socket
inode → pid → exe and ancestors) and decides with policy-schema; the L7 row also terminates TLS
(leaf certificate cached after the first connection), re-originates verified TLS upstream and
decides every request. tinyproxy, the bare Node server and srt's proxy identify nobody and
allow every host here; the bare Node row (Node's http server parsing CONNECT, a dial, 200,
pipes) is the floor for any proxy built on Node.
The client is one process (${CLIENT_UID === undefined ? 'this user' : `uid ${CLIENT_UID}, as a sandboxed agent under its own uid`}) measuring all
rows interleaved: one new connection to each path in turn (2 ms apart), then one kept-alive
request to each, then bulk in four rounds, in a random order each round, so load from other
jobs on this machine falls on every row alike.

${table}

${goals.map((g) => `- ${g}`).join('\n')}
`;
  // Hand-written notes below the marker (history, analysis) survive a re-run.
  const file = join(ROOT, 'bench/results/proxy.md');
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const notes = previous.includes(NOTES_MARKER)
    ? previous.slice(previous.indexOf(NOTES_MARKER))
    : `${NOTES_MARKER}\n`;
  if (!BASELINE_BIN) {
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(file, `${md}\n${notes}`);
  }
  process.stdout.write(`${table}\n\n${goals.join('\n')}\n`);
}

if (process.argv[2] === '--measure') {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  process.stdout.write(JSON.stringify(await measureAll(JSON.parse(input))));
  process.exit(0);
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
