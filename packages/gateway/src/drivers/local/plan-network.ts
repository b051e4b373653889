import type { SandboxNetwork, TcpEndpoint } from '../compute-driver.js';
import { OpenShellError } from '@openshell/policy-schema';
import { isInCidr, parseIpv4 } from './ipv4.js';
import type { Lease } from './lease-store.js';

/** uid of the sandbox-agent inside the sandbox: root with a reduced capability set. */
export const AGENT_UID = 0;

/** Interfaces local to every sandbox netns that carry its default route nowhere. */
export const VOID_PAIR = ['void0', 'void1'] as const;

/** Everything needed to build, and later tear down, one sandbox's network. */
export interface NetworkPlan extends SandboxNetwork {
  /** `ip -b -` script run on the host: netns, veth pair, host side address, host side up. */
  readonly hostSetup: string;
  /** nftables ruleset loaded inside the netns while every link is still down. */
  readonly ruleset: string;
  /** `ip -b` script run inside the netns after the ruleset: addresses, routes, links up. */
  readonly sandboxSetup: string;
}

export interface ResolvedEndpoint {
  readonly address: string;
  readonly port: number;
}

/** Host object names of a sandbox; the tag makes them unique per creation. */
export function nameNetwork(
  prefix: string,
  id: string,
  tag: string,
): Pick<SandboxNetwork, 'namespace' | 'hostInterface' | 'sandboxInterface'> {
  return {
    namespace: `${prefix}-${id}-${tag}`,
    hostInterface: `${prefix}h${tag}`,
    sandboxInterface: `${prefix}s${tag}`,
  };
}

/** Fills an endpoint's default address (the host side of the veth pair) and checks it. */
export function resolveEndpoint(
  what: string,
  endpoint: TcpEndpoint,
  hostAddress: string,
): ResolvedEndpoint {
  const address = endpoint.address ?? hostAddress;
  parseIpv4(address);
  if (!Number.isInteger(endpoint.port) || endpoint.port < 1 || endpoint.port > 65_535) {
    throw new OpenShellError('ERR_USAGE', `${what} port ${String(endpoint.port)} is not 1–65535`);
  }
  return { address, port: endpoint.port };
}

/**
 * Output is default-deny. Allowed: loopback, TCP to the proxy, and TCP to the supervisor
 * from the agent's uid only (`meta skuid` is the socket owner, so a sandbox-user process
 * cannot borrow it). Everything else is rejected rather than dropped, so a bypass attempt
 * fails in about a millisecond (RST → ECONNREFUSED; ICMP port-unreachable → EPERM/ECONNREFUSED
 * at send) instead of hanging until a timeout. The `inet` family covers IPv4 and IPv6.
 * Input accepts only replies: a host process cannot open connections into the sandbox.
 */
export function buildRuleset(proxy: ResolvedEndpoint, supervisor?: ResolvedEndpoint): string {
  const lines = [
    'table inet openshell {',
    '  chain output {',
    '    type filter hook output priority 0; policy drop;',
    '    oif "lo" accept',
    `    ip daddr ${proxy.address} tcp dport ${String(proxy.port)} accept`,
  ];
  if (supervisor !== undefined) {
    lines.push(
      `    ip daddr ${supervisor.address} tcp dport ${String(supervisor.port)} meta skuid ${String(AGENT_UID)} accept`,
    );
  }
  lines.push(
    '    meta l4proto tcp reject with tcp reset',
    '    reject with icmpx type port-unreachable',
    '  }',
    '  chain input {',
    '    type filter hook input priority 0; policy drop;',
    '    iif "lo" accept',
    '    ct state established,related accept',
    '  }',
    '}',
    '',
  );
  return lines.join('\n');
}

/** Plans the veth pair, addresses and routes of a sandbox from its lease. */
export function planNetwork(
  prefix: string,
  lease: Lease,
  proxy: ResolvedEndpoint,
  supervisor?: ResolvedEndpoint,
): NetworkPlan {
  const names = nameNetwork(prefix, lease.id, lease.tag);
  const { namespace, hostInterface, sandboxInterface } = names;
  const block = { base: parseIpv4(lease.hostAddress) - 1, prefixLength: lease.prefixLength };
  // `addrgenmode none` stops the kernel from giving either end an IPv6 link-local address,
  // which would otherwise be a second, IPv6 path to host services listening on `::`.
  // The netns itself is created first by the start script (bubblewrap enters it at once);
  // this runs beside bubblewrap's start.
  const hostSetup = [
    `link add ${hostInterface} type veth peer name ${sandboxInterface} netns ${namespace}`,
    `link set ${hostInterface} addrgenmode none`,
    `addr add ${lease.hostAddress}/${String(lease.prefixLength)} dev ${hostInterface}`,
    `link set ${hostInterface} up`,
    '',
  ].join('\n');
  const sandboxLines = [
    'link set lo up',
    `link set ${sandboxInterface} addrgenmode none`,
    `addr add ${lease.sandboxAddress}/${String(lease.prefixLength)} dev ${sandboxInterface}`,
    `link set ${sandboxInterface} up`,
  ];
  // No route toward the host except the /30 and the two allowed endpoints, because the host
  // may forward IP traffic. The default route instead points into a veth pair whose both
  // ends stay inside the netns (this kernel has no dummy device; with forwarding off in a
  // fresh netns nothing sent there goes anywhere). It exists so that a bypass attempt
  // reaches the output chain and gets the fast ECONNREFUSED of the reject rule, rather
  // than ENETUNREACH from routing, as REFERENCE.md promises for direct connections.
  sandboxLines.push(
    `link add ${VOID_PAIR[0]} type veth peer name ${VOID_PAIR[1]}`,
    `link set ${VOID_PAIR[0]} addrgenmode none`,
    `link set ${VOID_PAIR[1]} addrgenmode none`,
    `link set ${VOID_PAIR[0]} up`,
    `link set ${VOID_PAIR[1]} up`,
    `route add default dev ${VOID_PAIR[0]}`,
  );
  const routed = new Set<string>();
  for (const endpoint of [proxy, supervisor]) {
    if (endpoint === undefined || routed.has(endpoint.address)) continue;
    if (isInCidr(parseIpv4(endpoint.address), block)) continue;
    routed.add(endpoint.address);
    sandboxLines.push(`route add ${endpoint.address}/32 via ${lease.hostAddress}`);
  }
  sandboxLines.push('');
  return {
    ...names,
    hostAddress: lease.hostAddress,
    sandboxAddress: lease.sandboxAddress,
    prefixLength: lease.prefixLength,
    hostSetup,
    ruleset: buildRuleset(proxy, supervisor),
    sandboxSetup: sandboxLines.join('\n'),
  };
}

/** `ip -force -b -` script that removes the veth pair and the netns (missing ones are fine). */
export function planNetworkTeardown(network: SandboxNetwork): string {
  return `link del ${network.hostInterface}\nnetns del ${network.namespace}\n`;
}
