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
  /** An upstream proxy resolves names: only the name itself is checked here (no lookup). */
  readonly upstreamResolves?: boolean;
}

function familyOf(address: string): 4 | 6 {
  return parseIp(address)?.length === 4 ? 4 : 6;
}

function checkAddresses(
  host: string,
  port: number,
  addresses: readonly ResolvedAddress[],
  allowedIps: readonly string[],
): DestinationResult {
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

/**
 * Resolves `host` once and checks every address: blocked ranges are always refused,
 * private ranges only when `allowedIps` covers them. Any bad address refuses the whole
 * name (a mixed answer is how DNS rebinding sneaks an internal address in). An operator
 * override for exactly this host:port is trusted and skips the checks (DESIGN §4). With an
 * upstream proxy (`deps.upstreamResolves`) nothing is looked up: only the name itself is
 * checked and the result has no targets (the upstream proxy connects by name).
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
  if (deps.upstreamResolves) return checkNameForUpstream(host, port, allowedIps);
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
  return checkAddresses(host, port, addresses, allowedIps);
}

/** Names that resolve to loopback by definition (RFC 6761 §6.3), whoever resolves them. */
const LOOPBACK_NAME = /(?:^|\.)localhost$/;
/**
 * A last label of digits or 0x-hex is no DNS name (no TLD is numeric) but an IPv4 address
 * in a legacy form (`2130706433`, `127.1`, `0x7f.1`) that an upstream's inet_aton accepts.
 */
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/i;

/**
 * With an upstream proxy the name is resolved there, so only what the name itself reveals
 * is checked: IP literals are classified like resolved addresses, loopback names and
 * numeric forms are refused. What a public-looking name resolves to is the upstream
 * proxy's concern (documented: the operator's proxy must do its own SSRF filtering).
 */
function checkNameForUpstream(
  host: string,
  port: number,
  allowedIps: readonly string[],
): DestinationResult {
  if (parseIp(host)) {
    const checked = checkAddresses(
      host,
      port,
      [{ address: host, family: familyOf(host) }],
      allowedIps,
    );
    return checked.ok ? { ok: true, overridden: false, targets: [] } : checked;
  }
  if (LOOPBACK_NAME.test(host))
    return { ok: false, kind: 'ssrf', reason: `${host} is a loopback name (RFC 6761)` };
  if (NUMERIC_LAST_LABEL.test(host)) {
    return {
      ok: false,
      kind: 'ssrf',
      reason: `${host} is an IPv4 address in a non-canonical form, not a name`,
    };
  }
  return { ok: true, overridden: false, targets: [] };
}

/** The default resolver: the system's getaddrinfo, every address, in the order it returns them. */
export const lookupHost: HostResolver = async (host) => {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};
