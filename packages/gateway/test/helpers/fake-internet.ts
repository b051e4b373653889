// "The internet" for gateway tests: one HTTPS server on loopback that answers for several host
// names (certificate from a throwaway CA the proxy is told to trust), echoing what it received,
// so tests see exactly what the proxy forwarded (method, path, credentials after the swap).
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FakeInternet {
  readonly port: number;
  /** PEM file of the CA that signed the server's certificate (the proxy's --upstream-ca). */
  readonly caFile: string;
  /** Requests received, in order. */
  readonly requests: { method: string; host: string; path: string; authorization: string }[];
  close(): Promise<void>;
}

/** Starts the server with a certificate naming every host in `hosts`. */
export async function startFakeInternet(
  dir: string,
  hosts: readonly string[],
): Promise<FakeInternet> {
  const caKey = join(dir, 'net-ca.key');
  const caFile = join(dir, 'net-ca.pem');
  const key = join(dir, 'net.key');
  const csr = join(dir, 'net.csr');
  const cert = join(dir, 'net.pem');
  const ext = join(dir, 'net.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-subj',
    '/CN=fake-internet-ca',
    '-keyout',
    caKey,
    '-out',
    caFile,
  ]);
  await run('openssl', [
    'req',
    ...ec,
    '-subj',
    `/CN=${hosts[0] ?? 'localhost'}`,
    '-keyout',
    key,
    '-out',
    csr,
  ]);
  await writeFile(ext, `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}\n`);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    caFile,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  const requests: FakeInternet['requests'] = [];
  const server: Server = createServer(
    { key: await readFile(key), cert: await readFile(cert) },
    (req, res) => {
      const entry = {
        method: req.method ?? '',
        host: req.headers.host ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization ?? '',
      };
      requests.push(entry);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(entry));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    caFile,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
