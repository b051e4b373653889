import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OpenShellError } from '@openshell/policy-schema';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** The proxy's interception CA, loaded from or created in the state dir. */
export interface CertificateAuthority {
  readonly certificate: x509.X509Certificate;
  readonly privateKey: webcrypto.CryptoKey;
  readonly certPem: string;
  /** Where the CA certificate alone is written (for NODE_EXTRA_CA_CERTS, DENO_CERT). */
  readonly certPath: string;
  /** System roots + this CA: what the sandbox gets in SSL_CERT_FILE, CURL_CA_BUNDLE, … */
  readonly bundlePath: string;
}

export function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

function fromPem(pem: string, label: string): ArrayBuffer {
  const match = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(pem);
  if (!match?.[1]) throw new Error(`no ${label} block`);
  const buf = Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  // writeFile's mode is filtered by the umask; chmod makes 0600 hold whatever the umask.
  await chmod(tmp, mode);
  await rename(tmp, path);
}

async function createCa(): Promise<{ cert: x509.X509Certificate; keys: webcrypto.CryptoKeyPair }> {
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: 'CN=OpenShell Sandbox CA, O=OpenShell',
    // Back-dated a day so a sandbox clock slightly behind the host still accepts it.
    notBefore: new Date(now - 24 * 3600_000),
    notAfter: new Date(now + 10 * 365 * 24 * 3600_000),
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

/**
 * Loads the CA from `<stateDir>/tls/` or creates it on first start (EC P-256, key 0600),
 * and (re)writes the bundle the sandbox trusts: `systemRootsPem` + the CA. The key never
 * leaves the state dir; sandboxes only ever see the certificate.
 *
 * @example
 * const ca = await loadOrCreateCertificateAuthority('/var/lib/openshell/proxy', readSystemRoots());
 */
export async function loadOrCreateCertificateAuthority(
  stateDir: string,
  systemRootsPem: string,
): Promise<CertificateAuthority> {
  const dir = join(stateDir, 'tls');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certPath = join(dir, 'ca-cert.pem');
  const keyPath = join(dir, 'ca-key.pem');
  const bundlePath = join(dir, 'ca-bundle.pem');
  let cert: x509.X509Certificate;
  let privateKey: webcrypto.CryptoKey;
  const existing = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]).catch(
    (error: unknown) => {
      if ((error as { code?: unknown }).code === 'ENOENT') return null;
      throw new OpenShellError(
        'ERR_INPUT_UNREADABLE',
        `cannot read the proxy CA in ${dir}: ${String(error)}`,
        {
          cause: error,
        },
      );
    },
  );
  if (existing) {
    try {
      cert = new x509.X509Certificate(existing[0]);
      privateKey = await webcrypto.subtle.importKey(
        'pkcs8',
        fromPem(existing[1], 'PRIVATE KEY'),
        EC_P256,
        false,
        ['sign'],
      );
    } catch (error) {
      // Fail closed: regenerating would silently invalidate every sandbox's trust bundle.
      throw new OpenShellError(
        'ERR_INPUT_UNREADABLE',
        `the proxy CA in ${dir} is corrupt (${String(error)}); remove ca-cert.pem and ca-key.pem to create a new one`,
        { cause: error },
      );
    }
  } else {
    const created = await createCa();
    cert = created.cert;
    privateKey = created.keys.privateKey;
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', created.keys.privateKey);
    await writeAtomic(keyPath, toPem(pkcs8, 'PRIVATE KEY'), 0o600);
    await writeAtomic(certPath, cert.toString('pem') + '\n', 0o644);
  }
  const certPem = cert.toString('pem') + '\n';
  const roots = systemRootsPem.endsWith('\n') ? systemRootsPem : `${systemRootsPem}\n`;
  await writeAtomic(bundlePath, `${roots}${certPem}`, 0o644);
  return { certificate: cert, privateKey, certPem, certPath, bundlePath };
}
