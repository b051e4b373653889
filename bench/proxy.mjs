// Egress proxy overhead, side by side: direct to the upstream; through openshell-proxy as a
// CONNECT tunnel (L4 only, opaque TLS); through openshell-proxy with TLS termination and L7
// rules (every request decided); and through tinyproxy (CONNECT), a C proxy with no policy.
//
//   pnpm --filter @openshell/proxy build && node bench/proxy.mjs
//   (tinyproxy row: apt-get install -y tinyproxy; skipped with a note when absent)
//
// Every proxy runs as its own process (openshell-proxy is the built bin, standalone mode, with
// a --resolve override pointing bench.example.com:443 at the loopback upstream). The upstream
// is a separate Node HTTPS server. The client is this process, so the proxy identifies it by
// /proc (socket inode → pid → exe) exactly as it would a sandboxed process.
// Measures, sequentially: a new connection per request (TCP + CONNECT + TLS + GET + close),
// requests on one kept-alive connection, and bulk download throughput on one connection.
// Writes bench/results/proxy.md.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'packages/proxy/dist/bin.js');
const NEW_CONNECTIONS = Number(process.env.BENCH_NEW ?? 200);
const KEPT_ALIVE = Number(process.env.BENCH_KEEPALIVE ?? 1000);
const BULK_MB = Number(process.env.BENCH_BULK_MB ?? 256);
const WARMUP = 20;
const HOST = 'bench.example.com';

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

async function startOpenShell(upstreamPort, certFile, l7) {
  const policy = join(dir, l7 ? 'l7.yaml' : 'l4.yaml');
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
      BIN,
      '--listen',
      '127.0.0.1:0',
      '--state-dir',
      join(dir, l7 ? 'state-l7' : 'state-l4'),
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
        resolve(need);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.resume();
  });
}

/** One connection to the upstream (directly or via CONNECT), TLS verified with `secureContext`. */
async function open(target, secureContext) {
  let socket;
  if (target.proxyPort) {
    socket = await tcp(target.proxyPort);
    socket.write(`CONNECT ${target.authority} HTTP/1.1\r\nHost: ${target.authority}\r\n\r\n`);
    const head = await readHead(socket);
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

async function measure(name, target, caPem) {
  // Built once: parsing a CA bundle per connection would dominate the client's own cost.
  const ca = createSecureContext({ ca: caPem });
  for (let i = 0; i < WARMUP; i++) {
    const t = await open(target, ca);
    await get(t, '/small');
    t.destroy();
  }
  const fresh = [];
  for (let i = 0; i < NEW_CONNECTIONS; i++) {
    const start = process.hrtime.bigint();
    const t = await open(target, ca);
    await get(t, '/small');
    fresh.push(Number(process.hrtime.bigint() - start) / 1e6);
    t.destroy();
  }
  const kept = [];
  const conn = await open(target, ca);
  for (let i = 0; i < KEPT_ALIVE + WARMUP; i++) {
    const start = process.hrtime.bigint();
    await get(conn, '/small');
    if (i >= WARMUP) kept.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const bulkStart = process.hrtime.bigint();
  const bytes = await get(conn, `/bulk?mb=${BULK_MB}`);
  const seconds = Number(process.hrtime.bigint() - bulkStart) / 1e9;
  conn.destroy();
  fresh.sort((a, b) => a - b);
  kept.sort((a, b) => a - b);
  const row = {
    name,
    newP50: percentile(fresh, 50),
    newP99: percentile(fresh, 99),
    keptP50: percentile(kept, 50),
    keptP99: percentile(kept, 99),
    mbps: bytes / (1 << 20) / seconds,
  };
  console.error(
    `${name}: new ${row.newP50.toFixed(2)}/${row.newP99.toFixed(2)} ms, kept ${row.keptP50.toFixed(3)}/${row.keptP99.toFixed(3)} ms, ${row.mbps.toFixed(0)} MiB/s`,
  );
  return row;
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
  const { readFileSync } = await import('node:fs');
  const upstreamCa = readFileSync(certFile, 'utf8');
  const load = [loadavg()[0]];
  const upstreamPort = await startUpstream(join(dir, 'key.pem'), certFile);
  const l4 = await startOpenShell(upstreamPort, certFile, false);
  const l7 = await startOpenShell(upstreamPort, certFile, true);
  const tiny = await startTinyproxy();
  const rows = [];
  rows.push(await measure('direct (no proxy)', { port: upstreamPort }, upstreamCa));
  if (tiny)
    rows.push(
      await measure(
        'tinyproxy 1.11, CONNECT',
        { proxyPort: tiny.port, authority: `127.0.0.1:${upstreamPort}` },
        upstreamCa,
      ),
    );
  rows.push(
    await measure(
      'openshell-proxy, CONNECT tunnel (L4)',
      { proxyPort: l4.port, authority: `${HOST}:443` },
      upstreamCa,
    ),
  );
  rows.push(
    await measure(
      'openshell-proxy, TLS terminated + L7 rules',
      { proxyPort: l7.port, authority: `${HOST}:443` },
      readFileSync(l7.caBundle, 'utf8'),
    ),
  );
  load.push(loadavg()[0]);

  const fmt = (n, d = 2) => n.toFixed(d);
  const table = [
    '| path | new connection p50 | p99 | kept-alive request p50 | p99 | bulk MiB/s |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${fmt(r.newP50)} | ${fmt(r.newP99)} | ${fmt(r.keptP50, 3)} | ${fmt(r.keptP99, 3)} | ${fmt(r.mbps, 0)} |`,
    ),
  ].join('\n');
  const cpu = cpus()[0]?.model.trim() ?? 'unknown';
  const md = `# Egress proxy overhead

Date: ${new Date().toISOString()}

Command: \`pnpm --filter @openshell/proxy build && node bench/proxy.mjs\`
(${NEW_CONNECTIONS} new connections, ${KEPT_ALIVE} kept-alive requests, ${BULK_MB} MiB bulk; ${WARMUP} warm-up each; sequential)

Machine: ${cpu}, ${cpus().length} cores, ${platform()} ${release()}, Node ${process.version}.
1-minute load average ${load.map((l) => l.toFixed(1)).join(' before, ')} after (other jobs share this
machine: compare rows of one run).

"New connection" = TCP connect + CONNECT + TLS handshake (verified) + \`GET /small\` + response,
one after another; times in ms. The upstream is a Node HTTPS server on loopback. For the
openshell-proxy rows the proxy identifies the client by /proc on every new connection (socket
inode → pid → exe and ancestors) and decides with policy-schema; the L7 row also terminates TLS
(leaf certificate cached after the first connection), re-originates verified TLS upstream and
decides every request.

${table}
${tiny ? '' : '\ntinyproxy was not installed (apt-get install -y tinyproxy), so its row is missing.\n'}`;
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/proxy.md'), md);
  process.stdout.write(`${table}\n`);
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
