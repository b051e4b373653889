import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket, checkServerIdentity, connect as tlsConnect, rootCertificates } from 'node:tls';
import { afterEach, describe, expect, test } from 'vitest';
import { loadOrCreateCertificateAuthority } from './certificate-authority.js';
import { createLeafCertificates } from './leaf-certificates.js';

const ROOTS = rootCertificates.slice(0, 3).join('\n');
let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Serves TLS with the leaf for `host` and connects a client trusting only the CA. */
async function handshake(
  ca: Awaited<ReturnType<typeof loadOrCreateCertificateAuthority>>,
  host: string,
  servername: string,
): Promise<string> {
  const leaves = createLeafCertificates(ca);
  const context = await leaves.contextFor(host);
  const server = createServer((raw) => {
    const tls = new TLSSocket(raw, { isServer: true, secureContext: context });
    tls.on('error', () => tls.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await new Promise<string>((resolve) => {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      const tls = tlsConnect({
        socket,
        servername,
        ca: ca.certPem,
        checkServerIdentity: (_n, cert) => checkServerIdentity(servername, cert),
      });
      tls.once('secureConnect', () => {
        resolve(`ok ${tls.getPeerCertificate().subjectaltname}`);
        tls.destroy();
      });
      tls.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
  } finally {
    server.close();
  }
}

describe('proxy CA and leaf certificates', () => {
  test('created on first start with a 0600 key, reused on the next, bundle = system roots + CA', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ca-'));
    const first = await loadOrCreateCertificateAuthority(dir, ROOTS);
    expect(statSync(join(dir, 'tls', 'ca-key.pem')).mode & 0o777).toBe(0o600);
    expect(first.certificate.subject).toBe('CN=OpenShell Sandbox CA, O=OpenShell');
    const second = await loadOrCreateCertificateAuthority(dir, ROOTS);
    expect(second.certPem).toBe(first.certPem);
    expect(readFileSync(first.bundlePath, 'utf8')).toBe(`${ROOTS}\n${first.certPem}`);
  });

  test.for([
    ['api.github.com', 'api.github.com', 'ok DNS:api.github.com'],
    ['127.0.0.1', '', 'ok IP Address:127.0.0.1'],
    ['api.github.com', 'evil.example.org', 'ERR_TLS_CERT_ALTNAME_INVALID'],
  ] as const)('a leaf for %s verified as %j → %s', async ([host, servername, expected]) => {
    dir = mkdtempSync(join(tmpdir(), 'ca-'));
    const ca = await loadOrCreateCertificateAuthority(dir, ROOTS);
    expect(await handshake(ca, host, servername || host)).toBe(expected);
  });

  test('leaves are cached per host', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ca-'));
    const leaves = createLeafCertificates(await loadOrCreateCertificateAuthority(dir, ROOTS), {
      maxEntries: 2,
    });
    const a = await leaves.contextFor('a.example.com');
    expect(await leaves.contextFor('a.example.com')).toBe(a);
    await leaves.contextFor('b.example.com');
    await leaves.contextFor('c.example.com');
    expect(leaves.size).toBe(2);
    expect(await leaves.contextFor('a.example.com')).not.toBe(a);
  });

  test('a corrupt CA is refused, not silently replaced', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ca-'));
    await loadOrCreateCertificateAuthority(dir, ROOTS);
    writeFileSync(join(dir, 'tls', 'ca-key.pem'), 'garbage');
    await expect(loadOrCreateCertificateAuthority(dir, ROOTS)).rejects.toMatchObject({
      code: 'ERR_INPUT_UNREADABLE',
    });
  });
});
