import { access } from 'node:fs/promises';
import { OpenShellError } from '@openshell/policy-schema';
import type { SandboxNetwork } from '../compute-driver.js';
import type { NetworkPlan } from '../local/plan-network.js';
import { planNetworkTeardown } from '../local/plan-network.js';
import { runCommand } from '../local/run-command.js';

export interface NetworkTools {
  readonly ip: string;
  readonly nft: string;
  readonly nsenter: string;
}

async function check(stage: string, argv: readonly string[], input?: string): Promise<void> {
  const result = await runCommand(argv, input);
  if (result.code !== 0) {
    throw new OpenShellError(
      'ERR_COMPUTE_DRIVER_FAILED',
      `sandbox network setup failed at ${stage}: ${result.stderr.trim()}`,
      { details: { stage } },
    );
  }
}

/**
 * Gives a running container (started with the engine's `none` network: only `lo`) the same
 * network as a local sandbox: its netns is named with `ip netns attach`, then the veth pair,
 * the nftables ruleset (loaded before the sandbox end is up) and the addresses and routes of
 * the local driver's plan. The container's only process is waiting on the token fifo, so
 * nothing inside has used the network before this returns.
 */
export async function attachContainerNetwork(
  tools: NetworkTools,
  plan: NetworkPlan,
  containerPid: number,
): Promise<void> {
  // The engine made the netns; it only gets a name here (a plan that creates one is not used).
  const rest = plan.hostSetup.split('\n').filter((line) => !line.startsWith('netns add '));
  const hostSetup = [`netns attach ${plan.namespace} ${String(containerPid)}`, ...rest].join('\n');
  await check('veth pair', [tools.ip, '-b', '-'], hostSetup);
  await check(
    'nftables',
    [tools.nsenter, `--net=/run/netns/${plan.namespace}`, '--', tools.nft, '-f', '-'],
    plan.ruleset,
  );
  await check('netns links', [tools.ip, '-n', plan.namespace, '-b', '-'], plan.sandboxSetup);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Removes the veth pair and the netns name; fails when either is still there afterwards. */
export async function detachContainerNetwork(
  tools: NetworkTools,
  network: SandboxNetwork,
): Promise<void> {
  const netnsPath = `/run/netns/${network.namespace}`;
  const link = `/sys/class/net/${network.hostInterface}`;
  if ((await exists(netnsPath)) || (await exists(link))) {
    await runCommand([tools.ip, '-force', '-b', '-'], planNetworkTeardown(network));
  }
  for (const path of [netnsPath, link]) {
    if (await exists(path)) {
      throw new OpenShellError(
        'ERR_COMPUTE_DRIVER_FAILED',
        `${path} still exists after deleting the sandbox's network; retry the deletion`,
        { details: { stage: 'network', path } },
      );
    }
  }
}

/** nftables tables inside the sandbox's netns (empty when the netns is gone). */
export async function listFirewall(tools: NetworkTools, namespace: string): Promise<string[]> {
  if (!(await exists(`/run/netns/${namespace}`))) return [];
  const result = await runCommand([
    tools.nsenter,
    `--net=/run/netns/${namespace}`,
    '--',
    tools.nft,
    'list',
    'tables',
  ]);
  return result.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('table '));
}
