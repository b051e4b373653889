import { OpenShellError, normalizeHost } from '@openshell/policy-schema';
import { normalizeAddress, parseIp } from './ip-address.js';

/** An operator's static mapping `host:port=addr:port` (DESIGN §4). */
export interface ResolveOverride {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly addressPort: number;
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:[\]=\s]+):(\d{1,5})$/;

function splitHostPort(text: string, what: string, whole: string): { host: string; port: number } {
  const match = HOST_PORT.exec(text);
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new OpenShellError(
      'ERR_USAGE',
      `--resolve "${whole}": ${what} "${text}" is not HOST:PORT; write e.g. example.com:443=127.0.0.1:8443`,
    );
  }
  return { host: match[1], port };
}

/** Parses one `HOST:PORT=ADDR:PORT` override; ADDR must be an IP literal (no second lookup). */
export function parseResolveOverride(text: string): ResolveOverride {
  const eq = text.indexOf('=');
  if (eq === -1) {
    throw new OpenShellError(
      'ERR_USAGE',
      `--resolve "${text}" has no "="; write HOST:PORT=ADDR:PORT, e.g. example.com:443=127.0.0.1:8443`,
    );
  }
  const from = splitHostPort(text.slice(0, eq), 'target', text);
  const to = splitHostPort(text.slice(eq + 1), 'address', text);
  if (!parseIp(to.host)) {
    throw new OpenShellError(
      'ERR_USAGE',
      `--resolve "${text}": "${to.host}" is not an IP address; the override must name the address to dial`,
    );
  }
  return {
    host: normalizeHost(from.host),
    port: from.port,
    address: normalizeAddress(to.host),
    addressPort: to.port,
  };
}

/** Lookup table keyed by normalised `host:port`. */
export function createOverrideTable(
  overrides: readonly ResolveOverride[],
): ReadonlyMap<string, ResolveOverride> {
  return new Map(overrides.map((o) => [`${o.host}:${o.port}`, o]));
}
