import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

/** Debian/Ubuntu, RHEL/Fedora, Alpine/openSUSE bundle locations, in that order. */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
];

/**
 * The host's trusted roots as PEM text. The system bundle is preferred over Node's
 * compiled-in Mozilla list because operators add corporate roots to the system store;
 * Node's list is the fallback on hosts without one.
 */
export function readSystemRoots(): string {
  for (const path of SYSTEM_BUNDLES) {
    try {
      const text = readFileSync(path, 'utf8');
      if (text.includes('-----BEGIN CERTIFICATE-----')) return text;
    } catch {
      // Not this distribution's location; try the next.
    }
  }
  return rootCertificates.join('\n');
}
