import { describe, expect, test } from 'vitest';
import type { Lease } from './lease-store.js';
import { buildRuleset, nameNetwork, planNetwork, resolveEndpoint } from './plan-network.js';

const LEASE: Lease = {
  id: 'demo',
  index: 1,
  hostAddress: '10.200.0.5',
  sandboxAddress: '10.200.0.6',
  prefixLength: 30,
  uid: 200_001,
  gid: 200_001,
  tag: 'k3x9a0qz',
};

describe('nameNetwork', () => {
  test('veth names fit IFNAMSIZ (15) with the longest prefix; the tag makes them unique', () => {
    const names = nameNetwork('abcd', 'a'.repeat(32), 'k3x9a0qz');
    expect(names.hostInterface).toBe('abcdhk3x9a0qz');
    expect(names.hostInterface.length).toBeLessThanOrEqual(15);
    expect(names.sandboxInterface.length).toBeLessThanOrEqual(15);
    expect(names.namespace).toBe(`abcd-${'a'.repeat(32)}-k3x9a0qz`);
  });
});

describe('buildRuleset', () => {
  const ruleset = buildRuleset(
    { address: '10.200.0.5', port: 3128 },
    { address: '10.200.0.5', port: 17670 },
  );

  test('output is default-drop and allows exactly lo, the proxy and the agent to the supervisor', () => {
    expect(ruleset).toContain('table inet openshell');
    expect(ruleset).toContain('type filter hook output priority 0; policy drop;');
    const accepts = ruleset.split('\n').filter((line) => line.trim().endsWith('accept'));
    expect(accepts.map((line) => line.trim())).toEqual([
      'oif "lo" accept',
      'ip daddr 10.200.0.5 tcp dport 3128 accept',
      'ip daddr 10.200.0.5 tcp dport 17670 meta skuid 0 accept',
      'iif "lo" accept',
      'ct state established,related accept',
    ]);
  });

  test('everything else is rejected (fast failure), TCP with a reset', () => {
    expect(ruleset).toContain('meta l4proto tcp reject with tcp reset');
    expect(ruleset).toContain('reject with icmpx type port-unreachable');
  });

  test('without a supervisor endpoint no uid gets a way out besides the proxy', () => {
    expect(buildRuleset({ address: '10.200.0.5', port: 3128 })).not.toContain('skuid');
  });
});

describe('planNetwork', () => {
  test('routes: the /30, endpoints outside it as /32 via the host side, no default toward the host', () => {
    const plan = planNetwork(
      'os',
      LEASE,
      resolveEndpoint('proxy', { address: '10.200.0.1', port: 3128 }, LEASE.hostAddress),
      resolveEndpoint('supervisor', { port: 17670 }, LEASE.hostAddress),
    );
    expect(plan.sandboxSetup).toContain('addr add 10.200.0.6/30 dev ossk3x9a0qz');
    expect(plan.sandboxSetup).toContain('route add 10.200.0.1/32 via 10.200.0.5');
    expect(plan.sandboxSetup).not.toContain('via 10.200.0.5\nroute add 10.200.0.5');
    expect(plan.sandboxSetup).toContain('route add default dev void0');
    expect(plan.sandboxSetup).not.toMatch(/default via/);
    expect(plan.hostSetup).toContain(
      'link add osh' + 'k3x9a0qz type veth peer name ossk3x9a0qz netns os-demo-k3x9a0qz',
    );
  });

  test('links come up only in the sandbox script, which runs after the ruleset', () => {
    const plan = planNetwork('os', LEASE, { address: LEASE.hostAddress, port: 3128 });
    expect(plan.hostSetup).not.toContain('ossk3x9a0qz up');
    expect(plan.sandboxSetup).toContain('link set ossk3x9a0qz up');
  });

  test.for([
    [{ port: 0 }, 'ERR_USAGE'],
    [{ port: 70_000 }, 'ERR_USAGE'],
    [{ address: 'proxy.local', port: 3128 }, 'ERR_USAGE'],
    [{ address: '::1', port: 3128 }, 'ERR_USAGE'],
  ])('endpoint %j is refused', ([endpoint, code]) => {
    expect(() => resolveEndpoint('proxy', endpoint as { port: number }, LEASE.hostAddress)).toThrow(
      expect.objectContaining({ code }),
    );
  });
});
