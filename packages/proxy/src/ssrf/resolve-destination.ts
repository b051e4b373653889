import { lookup } from 'node:dns/promises';
import { classifyAddress, isAllowedIp } from './classify-address.js';
import { normalizeAddress, parseIp } from './ip-address.js';
import type { ResolveOverride } from './resolve-overrides.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Name resolution used by the proxy; injectable so tests map real-looking names to chosen addresses. */
export type HostResolver = (host: string) => Promise<readonly ResolvedAddress[]>;

/** A validated address to dial; the proxy never looks the name up a second time. */
export interface DialTarget {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

export type DestinationResult =
  | { readonly ok: true; readonly targets: readonly DialTarget[]; readonly overridden: boolean }
  | {
      readonly ok: false;
      /** `ssrf` → 403 ssrf_denied; `dns` → 502 (the name does not resolve). */
      readonly kind: 'ssrf' | 'dns';
      /** For the log: which address and why. Never shown in full to the sandbox. */
      readonly reason: string;
    };

export interface DestinationDeps {
  readonly resolveHost: HostResolver;
  readonly overrides: ReadonlyMap<string, ResolveOverride>;
}

function familyOf(address: string): 4 | 6 {
  return parseIp(address)?.length === 4 ? 4 : 6;
}

/**
 * Resolves `host` once and checks every address: blocked ranges are always refused,
 * private ranges only when `allowedIps` covers them. Any bad address refuses the whole
 * name (a mixed answer is how DNS rebinding sneaks an internal address in). An operator
 * override for exactly this host:port is trusted and skips the checks (DESIGN §4).
 */
export async function resolveDestination(
  host: string,
  port: number,
  allowedIps: readonly string[],
  deps: DestinationDeps,
): Promise<DestinationResult> {
  const override = deps.overrides.get(`${host}:${port}`);
  if (override) {
    return {
      ok: true,
      overridden: true,
      targets: [
        {
          address: override.address,
          port: override.addressPort,
          family: familyOf(override.address),
        },
      ],
    };
  }
  let addresses: readonly ResolvedAddress[];
  if (parseIp(host)) {
    addresses = [{ address: normalizeAddress(host), family: familyOf(host) }];
  } else {
    try {
      addresses = await deps.resolveHost(host);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return {
        ok: false,
        kind: 'dns',
        reason: `DNS resolution failed for ${host}:${port} (${String(code ?? error)})`,
      };
    }
    if (addresses.length === 0) {
      return {
        ok: false,
        kind: 'dns',
        reason: `DNS resolution failed for ${host}:${port} (no addresses)`,
      };
    }
  }
  const targets: DialTarget[] = [];
  for (const { address } of addresses) {
    const normalized = normalizeAddress(address);
    const verdict = classifyAddress(normalized);
    if (verdict.class === 'blocked') {
      return {
        ok: false,
        kind: 'ssrf',
        reason: `${host} resolves to always-blocked address ${normalized} (${verdict.range})`,
      };
    }
    if (verdict.class === 'private' && !isAllowedIp(normalized, allowedIps)) {
      return {
        ok: false,
        kind: 'ssrf',
        reason: `${host} resolves to internal address ${normalized} (${verdict.range}) not in allowed_ips`,
      };
    }
    targets.push({ address: normalized, port, family: familyOf(normalized) });
  }
  return { ok: true, overridden: false, targets };
}

/** The default resolver: the system's getaddrinfo, every address, in the order it returns them. */
export const lookupHost: HostResolver = async (host) => {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};
