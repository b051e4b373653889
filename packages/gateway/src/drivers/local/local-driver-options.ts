import { isAbsolute } from 'node:path';
import { OpenShellError } from '@openshell/policy-schema';
import { parseIpv4Cidr, type Ipv4Cidr } from './ipv4.js';

/** Options of the local (netns + nftables + bubblewrap) compute driver. */
export interface LocalDriverOptions {
  /** Root-only directory for leases, per-sandbox state and workspaces. */
  readonly stateDir: string;
  /** IPv4 pool carved into one /30 per sandbox; block 0 is reserved. Default 10.200.0.0/16. */
  readonly addressPool?: string;
  /** First host uid of the reserved range; sandbox n runs as uidBase + its block index. */
  readonly uidBase?: number;
  /** Prefix of host object names (netns, veth): 1–4 lowercase letters. Default `os`. */
  readonly namePrefix?: string;
  /** Directory created under each cgroup hierarchy to hold the sandboxes' cgroups. */
  readonly cgroupParent?: string;
  /** Absolute paths of the host tools (defaults: the Debian locations). */
  readonly tools?: Partial<HostTools>;
}

export interface HostTools {
  readonly ip: string;
  readonly nft: string;
  readonly bwrap: string;
  readonly nsenter: string;
  readonly sh: string;
}

export interface ResolvedLocalDriverOptions {
  readonly stateDir: string;
  readonly pool: Ipv4Cidr;
  readonly uidBase: number;
  readonly namePrefix: string;
  readonly cgroupParent: string;
  readonly tools: HostTools;
}

const DEFAULT_TOOLS: HostTools = {
  ip: '/usr/bin/ip',
  nft: '/usr/sbin/nft',
  bwrap: '/usr/bin/bwrap',
  nsenter: '/usr/bin/nsenter',
  sh: '/bin/sh',
};

/**
 * uid 65534 is `nobody` and uids below 65536 belong to the host's own users; the range
 * must also stay below 2^31 - 1, where some tools treat uids as signed.
 */
const MIN_UID_BASE = 65536;
const MAX_UID = 2 ** 31 - 2;

/** Validates options and fills defaults; an invalid option is an error, never a silent default. */
export function resolveLocalDriverOptions(options: LocalDriverOptions): ResolvedLocalDriverOptions {
  if (!isAbsolute(options.stateDir)) {
    throw new OpenShellError(
      'ERR_USAGE',
      `stateDir "${options.stateDir}" must be an absolute path`,
    );
  }
  const pool = parseIpv4Cidr(options.addressPool ?? '10.200.0.0/16');
  const uidBase = options.uidBase ?? 200_000;
  const blocks = 2 ** (30 - pool.prefixLength);
  if (!Number.isInteger(uidBase) || uidBase < MIN_UID_BASE || uidBase + blocks > MAX_UID) {
    throw new OpenShellError(
      'ERR_USAGE',
      `uidBase ${String(uidBase)} must be an integer ≥ ${String(MIN_UID_BASE)} leaving room for ${String(blocks)} sandbox uids`,
    );
  }
  const namePrefix = options.namePrefix ?? 'os';
  if (!/^[a-z]{1,4}$/.test(namePrefix)) {
    // veth names are `<prefix>h<8-char tag>` and IFNAMSIZ allows 15 characters.
    throw new OpenShellError(
      'ERR_USAGE',
      `namePrefix "${namePrefix}" must be 1–4 lowercase letters`,
    );
  }
  const cgroupParent = options.cgroupParent ?? 'openshell';
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/.test(cgroupParent)) {
    throw new OpenShellError(
      'ERR_USAGE',
      `cgroupParent "${cgroupParent}" must be one path component of letters, digits, ".", "_" or "-"`,
    );
  }
  const tools = { ...DEFAULT_TOOLS, ...options.tools };
  for (const [name, path] of Object.entries(tools)) {
    if (!isAbsolute(path)) {
      throw new OpenShellError('ERR_USAGE', `tools.${name} "${path}" must be an absolute path`);
    }
  }
  return { stateDir: options.stateDir, pool, uidBase, namePrefix, cgroupParent, tools };
}
