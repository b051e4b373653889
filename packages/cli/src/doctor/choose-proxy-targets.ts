import { compilePolicy, decide, hasGlobMeta, type Policy } from '@openshell/policy-schema';
import type { ProxyTarget } from './attempt-spec.js';

// The attempts run curl; the proxy identifies it by /proc/<pid>/exe.
const CURL = '/usr/bin/curl';

interface Candidate {
  readonly host: string;
  readonly port: number;
  readonly policy: string;
  readonly l7: boolean;
  readonly firstRule: { readonly method: string; readonly path: string } | undefined;
}

/** Concrete host:port pairs of the policy's endpoints that curl may reach at L4. */
function listReachable(policy: Policy): Candidate[] {
  const compiled = compilePolicy(policy);
  const out: Candidate[] = [];
  for (const rule of Object.values(policy.network_policies)) {
    for (const endpoint of rule.endpoints) {
      if (endpoint.host.includes('*')) continue;
      for (const port of endpoint.ports) {
        if (decide(compiled, { host: endpoint.host, port, binary: CURL }).action === 'deny')
          continue;
        const first = endpoint.rules[0];
        out.push({
          host: endpoint.host,
          port,
          policy: rule.name,
          l7: endpoint.protocol === 'rest',
          firstRule: first === undefined ? undefined : { method: first.method, path: first.path },
        });
      }
    }
  }
  return out;
}

/** The literal part of a path glob before its first wildcard, ending in `/`. */
function literalPrefix(glob: string): string {
  const cut = [...glob].findIndex((_, i) => hasGlobMeta(glob.slice(i, i + 1)));
  const head = cut === -1 ? glob : glob.slice(0, cut);
  return head.endsWith('/') ? head : `${head.slice(0, head.lastIndexOf('/'))}/`;
}

/**
 * A request on an L7 endpoint that its rules refuse, built as the tricks agents try:
 * an allowed prefix escaped with encoded dot segments, then with an encoded slash, then a
 * method outside the rules. Each candidate is checked with the same decide() the proxy runs,
 * so only a request the policy really denies is used. Undefined when the policy has no L7
 * endpoint curl may reach, or its rules allow everything tried.
 */
export function chooseL7Target(policy: Policy): ProxyTarget | undefined {
  const compiled = compilePolicy(policy);
  for (const c of listReachable(policy).filter((x) => x.l7)) {
    const method = c.firstRule?.method === '*' ? 'GET' : (c.firstRule?.method ?? 'GET');
    const prefix = literalPrefix(c.firstRule?.path ?? '/');
    const tries = [
      { method, path: `${prefix}%2e%2e/%2e%2e/openshell-prove-denied` },
      { method, path: `${prefix}..%2f..%2fopenshell-prove-denied` },
      { method: 'DELETE', path: `${prefix}openshell-prove-denied` },
    ];
    for (const t of tries) {
      const verdict = decide(compiled, {
        host: c.host,
        port: c.port,
        binary: CURL,
        method: t.method,
        target: t.path,
      });
      if (verdict.action === 'deny') {
        return { host: c.host, port: c.port, ...t, why: `L7 rules of "${c.policy}"` };
      }
    }
  }
  return undefined;
}

/**
 * Where the credential placeholder is sent: a host curl may reach under the policy (so
 * the request gets past L4 to the credential check), else a host no policy names, where L4
 * stops it first — which the detail then says.
 */
export function chooseCredentialTarget(policy: Policy, deniedHost: string): ProxyTarget {
  const reachable = listReachable(policy).find((c) => !c.l7);
  if (reachable !== undefined) {
    return {
      host: reachable.host,
      port: reachable.port,
      method: 'GET',
      path: '/',
      why: `allowed by "${reachable.policy}", not bound to the provider`,
    };
  }
  return {
    host: deniedHost,
    port: 80,
    method: 'GET',
    path: '/',
    why: 'the policy lets curl reach no host, so L4 refuses it first',
  };
}
