import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OpenShellError } from '@openshell/policy-schema';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600_000;

/** PEM material of the gateway's private PKI (one CA for the CLI API and the agent endpoint). */
export interface GatewayPki {
  readonly dir: string;
  readonly caPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** Directory holding only `ca.pem`, safe to bind read-only into sandboxes (agents trust it). */
  readonly caDir: string;
}

export interface PkiOptions {
  /** IP addresses the server certificate must name (127.0.0.1, the sandbox service address). */
  readonly serverIps: readonly string[];
}

function toPem(der: ArrayBuffer, label: string): string {
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
  const tmp = `${path}.${String(process.pid)}.tmp`;
  await writeFile(tmp, data, { mode });
  // writeFile's mode passes through the umask; chmod makes 0600 hold whatever it is.
  await chmod(tmp, mode);
  await rename(tmp, path);
}

function serial(): string {
  // Positive 128-bit serial (RFC 5280 §4.1.2.2): clear the top bit.
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
}

async function keyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  return toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
}

async function issue(
  ca: { cert: x509.X509Certificate; key: webcrypto.CryptoKey },
  subject: string,
  usage: 'server' | 'client',
  serverIps: readonly string[],
): Promise<{ certPem: string; keyPem: string }> {
  const keys = await newKeys();
  const now = Date.now();
  const names =
    usage === 'server'
      ? [
          new x509.SubjectAlternativeNameExtension([
            { type: 'dns', value: 'localhost' },
            ...serverIps.map((ip) => ({ type: 'ip' as const, value: ip })),
          ]),
        ]
      : [];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 5 * 365 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(
        [usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      ...names,
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys) };
}

async function readAll(dir: string): Promise<Record<string, string> | undefined> {
  const files = ['ca.pem', 'ca.key', 'server.pem', 'server.key', 'client.pem', 'client.key'];
  try {
    const texts = await Promise.all(files.map((file) => readFile(join(dir, file), 'utf8')));
    return Object.fromEntries(files.map((file, i) => [file, texts[i] ?? '']));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new OpenShellError(
      'ERR_INPUT_UNREADABLE',
      `cannot read the gateway PKI in ${dir}: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
}

function sansOf(pem: string): string[] {
  const ext = new x509.X509Certificate(pem).getExtension(x509.SubjectAlternativeNameExtension);
  return ext?.names.items.map((name) => name.value) ?? [];
}

/**
 * Loads the gateway's CA, server and client certificates from `dir`, creating them on first
 * start (EC P-256; keys 0600, directory 0700). The server certificate is re-issued from the
 * same CA when it does not name every address in `serverIps` (a changed service address), so
 * clients holding the CA keep working. Never regenerates the CA silently: a corrupt CA is an
 * error, because a new one would lock every configured CLI out.
 */
export async function loadOrCreatePki(dir: string, options: PkiOptions): Promise<GatewayPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const caDir = join(dir, 'ca-only');
  await mkdir(caDir, { recursive: true, mode: 0o755 });
  const serverIps = [...new Set(['127.0.0.1', ...options.serverIps])];
  const existing = await readAll(dir);
  let caPem: string;
  let caKey: webcrypto.CryptoKey;
  let files: Record<string, string>;
  if (existing) {
    try {
      caPem = existing['ca.pem'] ?? '';
      caKey = await webcrypto.subtle.importKey(
        'pkcs8',
        fromPem(existing['ca.key'] ?? '', 'PRIVATE KEY'),
        EC_P256,
        false,
        ['sign'],
      );
      files = existing;
    } catch (error) {
      throw new OpenShellError(
        'ERR_INPUT_UNREADABLE',
        `the gateway CA in ${dir} is corrupt (${String(error)}); move the directory away to create a new PKI (every CLI must then fetch new credentials)`,
        { cause: error },
      );
    }
  } else {
    const keys = await newKeys();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=OpenShell Gateway CA, O=OpenShell',
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 10 * 365 * DAY_MS),
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
    caPem = cert.toString('pem') + '\n';
    caKey = keys.privateKey;
    const ca = { cert, key: caKey };
    const server = await issue(ca, 'CN=openshell-gateway', 'server', serverIps);
    const client = await issue(ca, 'CN=openshell-cli', 'client', serverIps);
    files = {
      'ca.pem': caPem,
      'ca.key': await keyPem(keys),
      'server.pem': server.certPem,
      'server.key': server.keyPem,
      'client.pem': client.certPem,
      'client.key': client.keyPem,
    };
    // Keys first, CA certificate last: a crash midway leaves no ca.pem, so the next start
    // recreates everything instead of finding a half-made PKI.
    for (const name of ['ca.key', 'server.key', 'client.key', 'server.pem', 'client.pem']) {
      await writeAtomic(join(dir, name), files[name] ?? '', name.endsWith('.key') ? 0o600 : 0o644);
    }
    await writeAtomic(join(dir, 'ca.pem'), caPem, 0o644);
  }
  const serverPem = files['server.pem'] ?? '';
  if (!serverIps.every((ip) => sansOf(serverPem).includes(ip))) {
    const server = await issue(
      { cert: new x509.X509Certificate(caPem), key: caKey },
      'CN=openshell-gateway',
      'server',
      serverIps,
    );
    await writeAtomic(join(dir, 'server.key'), server.keyPem, 0o600);
    await writeAtomic(join(dir, 'server.pem'), server.certPem, 0o644);
    files = { ...files, 'server.pem': server.certPem, 'server.key': server.keyPem };
  }
  await writeAtomic(join(caDir, 'ca.pem'), caPem, 0o644);
  return {
    dir,
    caDir,
    caPem,
    serverCertPem: files['server.pem'] ?? '',
    serverKeyPem: files['server.key'] ?? '',
    clientCertPem: files['client.pem'] ?? '',
    clientKeyPem: files['client.key'] ?? '',
  };
}
