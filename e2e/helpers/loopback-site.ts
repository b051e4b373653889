// A loopback HTTPS "example.com" for e2e files: a throwaway CA, a leaf for example.com, and a
// server that records what reached it. The gateway's proxy reaches it through a resolve
// override (`example.com:443=127.0.0.1:PORT`), so the policy still names example.com.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { run } from './isolated-gateway.js';

export interface LoopbackSite {
  readonly port: number;
  readonly caFile: string;
  /** Requests that reached the site, in order. */
  readonly received: { method: string; path: string }[];
  close(): Promise<void>;
}

/** Starts the site on 127.0.0.1:0 with its TLS material written under `dir`. */
export async function startLoopbackSite(dir: string): Promise<LoopbackSite> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const caFile = join(dir, 'site-ca.pem');
  const caKey = join(dir, 'site-ca.key');
  await run('openssl', [
    ...['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=e2e-ca'],
    ...['-keyout', caKey, '-out', caFile],
  ]);
  await run('openssl', [
    ...['req', ...ec, '-subj', '/CN=example.com'],
    ...['-keyout', join(dir, 'site.key'), '-out', join(dir, 'site.csr')],
  ]);
  await writeFile(join(dir, 'site.ext'), 'subjectAltName=DNS:example.com\n');
  await run('openssl', [
    ...['x509', '-req', '-in', join(dir, 'site.csr'), '-CA', caFile, '-CAkey', caKey],
    ...['-CAcreateserial', '-days', '2', '-extfile', join(dir, 'site.ext')],
    ...['-out', join(dir, 'site.pem')],
  ]);
  const received: { method: string; path: string }[] = [];
  const server: Server = createServer(
    { key: await readFile(join(dir, 'site.key')), cert: await readFile(join(dir, 'site.pem')) },
    (req, res) => {
      received.push({ method: req.method ?? '', path: req.url ?? '' });
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, method: req.method, path: req.url }));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    caFile,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
