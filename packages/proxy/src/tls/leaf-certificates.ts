import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import {
  ECDSA_SHA256,
  EC_P256,
  toPem,
  type CertificateAuthority,
} from './certificate-authority.js';

/** Leaves are short-lived; the cache re-mints well before expiry. */
const LEAF_LIFETIME_MS = 7 * 24 * 3600_000;
const REMINT_BEFORE_MS = 24 * 3600_000;

export interface LeafCertificates {
  /** A TLS server context presenting a certificate for `host`, minted once and cached. */
  contextFor(host: string): Promise<SecureContext>;
  /** Number of cached leaves (for metrics). */
  readonly size: number;
}

interface CachedLeaf {
  readonly context: Promise<SecureContext>;
  readonly expires: number;
}

/**
 * Mints per-host leaf certificates signed by the proxy CA, LRU-cached (Map insertion
 * order) up to `maxEntries`. One EC P-256 key pair is shared by every leaf of this
 * process, as mitmproxy does: the key lives only in proxy memory, so a per-host key adds
 * ~1 ms per new host without adding protection; the certificates still differ per host.
 *
 * @example
 * const leaves = createLeafCertificates(ca, { maxEntries: 1024 });
 * tls.createServer({ SNICallback: (name, cb) => leaves.contextFor(host).then((c) => cb(null, c)) });
 */
export function createLeafCertificates(
  ca: CertificateAuthority,
  options: { maxEntries?: number; now?: () => number } = {},
): LeafCertificates {
  const maxEntries = options.maxEntries ?? 1024;
  const now = options.now ?? Date.now;
  const cache = new Map<string, CachedLeaf>();
  let leafKeys: Promise<{ keys: webcrypto.CryptoKeyPair; keyPem: string }> | null = null;

  function getLeafKeys(): Promise<{ keys: webcrypto.CryptoKeyPair; keyPem: string }> {
    leafKeys ??= (async () => {
      const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
      const keyPem = toPem(
        await webcrypto.subtle.exportKey('pkcs8', keys.privateKey),
        'PRIVATE KEY',
      );
      return { keys, keyPem };
    })();
    return leafKeys;
  }

  async function mint(host: string, issuedAt: number): Promise<SecureContext> {
    const { keys, keyPem } = await getLeafKeys();
    const name = isIP(host)
      ? { type: 'ip' as const, value: host }
      : { type: 'dns' as const, value: host };
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      // CN is informational; clients match the SAN (RFC 6125). Long names would overflow CN's 64 chars.
      subject: `CN=${host.length <= 64 ? host : 'openshell-leaf'}`,
      issuer: ca.certificate.subject,
      notBefore: new Date(issuedAt - 3600_000),
      notAfter: new Date(Math.min(issuedAt + LEAF_LIFETIME_MS, ca.certificate.notAfter.getTime())),
      publicKey: keys.publicKey,
      signingKey: ca.privateKey,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([name]),
        await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
      ],
    });
    // The chain includes the CA so clients that trust only the CA can still build the path.
    return createSecureContext({ key: keyPem, cert: `${cert.toString('pem')}\n${ca.certPem}` });
  }

  return {
    contextFor(host: string): Promise<SecureContext> {
      const t = now();
      const hit = cache.get(host);
      if (hit && hit.expires - REMINT_BEFORE_MS > t) {
        cache.delete(host);
        cache.set(host, hit);
        return hit.context;
      }
      const context = mint(host, t);
      // A failed mint must not stay cached, or every later connection to the host fails too.
      context.catch(() => cache.delete(host));
      cache.set(host, { context, expires: t + LEAF_LIFETIME_MS });
      while (cache.size > maxEntries) {
        const oldest = cache.keys().next();
        if (oldest.done === true) break;
        cache.delete(oldest.value);
      }
      return context;
    },
    get size() {
      return cache.size;
    },
  };
}
