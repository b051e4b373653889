import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import type { ComputeDriver } from '../../compute-driver.js';
import { execInSandbox, type ExecIdentity } from './exec-in-sandbox.js';

/** What a probe inside the sandbox observed: connected/sent, or the errno code. */
export interface ProbeResult {
  readonly result: 'connected' | 'sent' | 'resolved' | 'timeout' | 'error';
  readonly code?: string;
}

// Probes print one JSON line; a timeout (3 s) would mean a silent drop, which the firewall
// must never do (it rejects), so it is reported as its own result rather than as an error.
const TCP_PROBE = `
const socket = require('node:net').connect({ host: process.argv[1], port: Number(process.argv[2]) });
socket.setTimeout(3000);
socket.on('connect', () => { console.log(JSON.stringify({ result: 'connected' })); socket.destroy(); });
socket.on('timeout', () => { console.log(JSON.stringify({ result: 'timeout' })); socket.destroy(); });
socket.on('error', (e) => console.log(JSON.stringify({ result: 'error', code: e.code })));
`;

const UDP_PROBE = `
const host = process.argv[1];
const socket = require('node:dgram').createSocket(host.includes(':') ? 'udp6' : 'udp4');
socket.send('probe', Number(process.argv[2]), host, (e) => {
  console.log(JSON.stringify(e ? { result: 'error', code: e.code } : { result: 'sent' }));
  socket.close();
});
`;

const DNS_PROBE = `
require('node:dns').lookup(process.argv[1], (e) => {
  console.log(JSON.stringify(e ? { result: 'error', code: e.code } : { result: 'resolved' }));
});
`;

function parseProbe(stdout: string, stderr: string): ProbeResult {
  const line = stdout.trim().split('\n').pop() ?? '';
  if (line === '') throw new Error(`probe printed nothing; stderr: ${stderr}`);
  return JSON.parse(line) as ProbeResult;
}

async function runProbe(
  driver: ComputeDriver,
  id: string,
  code: string,
  args: readonly string[],
  as: ExecIdentity,
): Promise<ProbeResult> {
  const { stdout, stderr } = await execInSandbox(
    driver,
    id,
    ['/usr/bin/node', '-e', code, ...args],
    as,
  );
  return parseProbe(stdout, stderr);
}

/** TCP connect from inside the sandbox. */
export function probeTcp(
  driver: ComputeDriver,
  id: string,
  host: string,
  port: number,
  as: ExecIdentity = 'sandbox',
) {
  return runProbe(driver, id, TCP_PROBE, [host, String(port)], as);
}

/** One UDP datagram from inside the sandbox. */
export function probeUdp(
  driver: ComputeDriver,
  id: string,
  host: string,
  port: number,
  as: ExecIdentity = 'sandbox',
) {
  return runProbe(driver, id, UDP_PROBE, [host, String(port)], as);
}

/** A name lookup (libc resolver, /etc/resolv.conf of the host) from inside the sandbox. */
export function probeDns(driver: ComputeDriver, id: string, name: string) {
  return runProbe(driver, id, DNS_PROBE, [name], 'sandbox');
}

/** A TCP server on a fixed host address that counts accepted connections. */
export interface CountingServer {
  readonly port: number;
  accepted(): number;
  close(): Promise<void>;
}

/** Listens on address:port (port 0 = any) and greets each connection with one byte. */
export async function listenCounting(address: string, port = 0): Promise<CountingServer> {
  let count = 0;
  const server: Server = createTcpServer((socket) => {
    count += 1;
    // Probes hang up as soon as they connect, so a reset while greeting is expected.
    socket.on('error', () => undefined);
    socket.end('!');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A TCP port that was free on loopback a moment ago (for specs that need a port up front). */
export async function pickPort(): Promise<number> {
  const server = await listenCounting('127.0.0.1');
  const { port } = server;
  await server.close();
  return port;
}
