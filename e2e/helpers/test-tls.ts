// A throwaway CA and one server certificate for loopback stand-ins of public API hosts: the
// proxy is told to trust the CA (OPENSHELL_PROXY_UPSTREAM_CA), so it verifies the stand-in
// exactly as it would verify the real host — nothing in the sandbox needs to change.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './isolated-gateway.js';

export interface TestTls {
  readonly key: Buffer;
  readonly cert: Buffer;
  /** The CA certificate file (PEM) that signed `cert`. */
  readonly caFile: string;
}

/** Creates a CA and a certificate for `hosts` (subjectAltName DNS entries) in `dir`. */
export async function makeTestTls(dir: string, hosts: readonly string[]): Promise<TestTls> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const file = (name: string): string => join(dir, name);
  const caFile = file('test-ca.pem');
  await run('openssl', [
    ...['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=openshell-e2e-ca'],
    ...['-keyout', file('test-ca.key'), '-out', caFile],
  ]);
  await run('openssl', [
    ...['req', ...ec, '-subj', `/CN=${hosts[0] ?? 'localhost'}`],
    ...['-keyout', file('site.key'), '-out', file('site.csr')],
  ]);
  await writeFile(
    file('site.ext'),
    `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(',')}\n`,
  );
  await run('openssl', [
    ...['x509', '-req', '-in', file('site.csr'), '-CA', caFile, '-CAkey', file('test-ca.key')],
    ...['-CAcreateserial', '-days', '2', '-extfile', file('site.ext'), '-out', file('site.pem')],
  ]);
  return { key: await readFile(file('site.key')), cert: await readFile(file('site.pem')), caFile };
}
