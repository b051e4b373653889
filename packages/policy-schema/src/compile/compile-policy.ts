import type { BinaryRef, Endpoint, HttpMatcher, Policy } from '../types.js';
import { compileGlob, hasGlobMeta, type GlobMatcher } from '../match/compile-glob.js';
import { compileNormalisedHostPattern, type HostMatcher } from '../match/compile-host-pattern.js';
import { normalizeHost } from '../match/normalize-host.js';
import { describeBinaries, describeRules } from '../decide/describe.js';
import { compileHttpMatcher, type CompiledHttpMatcher } from './compile-http-matcher.js';
import {
  addToHostIndex,
  createHostIndex,
  type HostIndex,
  type MutableHostIndex,
} from './host-index.js';

/** One network policy with its binary list compiled. */
export interface CompiledNetworkPolicy {
  readonly id: string;
  readonly name: string;
  /** The binary paths/globs as written, for deny reasons. */
  readonly binaryPatterns: readonly string[];
  /** `binaryPatterns` as deny reasons print them. */
  readonly binarySummary: string;
  /** True when the absolute executable path is listed (exactly or by a glob). */
  readonly matchBinary: (path: string) => boolean;
}

/** One endpoint of one network policy, compiled. */
export interface CompiledEndpoint {
  readonly policy: CompiledNetworkPolicy;
  readonly endpoint: Endpoint;
  /** Position in policy order then endpoint order; ties between matches resolve to the lowest. */
  readonly ordinal: number;
  /** The normalised host pattern (for rule strings such as `L4 *.github.com:443`). */
  readonly host: string;
  /** Takes a normalised, validated host. */
  readonly matchHost: HostMatcher;
  /** `protocol: rest`: requests are inspected and judged by the rules below. */
  readonly inspected: boolean;
  readonly audit: boolean;
  readonly rules: readonly CompiledHttpMatcher[];
  readonly denyRules: readonly CompiledHttpMatcher[];
  /** Labels of `rules`, de-duplicated, for deny reasons. */
  readonly ruleLabels: readonly string[];
  /** `ruleLabels` as deny reasons print them. */
  readonly ruleSummary: string;
  /** `[endpoint]`, shared by every decision this endpoint alone decides. */
  readonly endpointList: readonly Endpoint[];
}

/**
 * A policy compiled for `decide()`. Treat it as opaque: build it with `compilePolicy`, pass
 * it around, read `source` if you need the policy back.
 */
export interface CompiledPolicy {
  readonly source: Policy;
  readonly networkPolicies: readonly CompiledNetworkPolicy[];
  readonly endpoints: readonly CompiledEndpoint[];
  readonly byPort: ReadonlyMap<number, HostIndex>;
  /** Every endpoint regardless of port: used to explain a port miss. */
  readonly anyPort: HostIndex;
}

function compileBinaries(binaries: readonly BinaryRef[]): (path: string) => boolean {
  const exact = new Set<string>();
  const globs: GlobMatcher[] = [];
  let any = false;
  for (const { path } of binaries) {
    if (path === '/**' || path === '**') any = true;
    else if (hasGlobMeta(path)) globs.push(compileGlob(path, { separator: '/' }));
    else exact.add(path);
  }
  if (any) {
    return function matchAnyBinary(path) {
      return path.startsWith('/');
    };
  }
  return function matchListedBinary(path) {
    if (exact.has(path)) return true;
    for (const glob of globs) if (glob(path)) return true;
    return false;
  };
}

/**
 * Compiles a normalised policy into indexed matchers for `decide()`: endpoints are indexed
 * by port, then by exact host or by the wildcard's literal label suffix, so a decision
 * costs a few map lookups however many policies there are.
 * @example const compiled = compilePolicy(policy); decide(compiled, { host, port, binary });
 */
export function compilePolicy(policy: Policy): CompiledPolicy {
  const networkPolicies: CompiledNetworkPolicy[] = [];
  const endpoints: CompiledEndpoint[] = [];
  const byPort = new Map<number, MutableHostIndex>();
  const anyPort = createHostIndex();
  // Policies repeat the same rules (presets above all); compile each distinct one once.
  // Sharing is safe: compiled matchers are immutable and matching is synchronous.
  const matchers = new Map<string, CompiledHttpMatcher>();
  const compileMatcher = (matcher: HttpMatcher): CompiledHttpMatcher => {
    const key = JSON.stringify([matcher.method, matcher.path, matcher.query ?? null]);
    let compiled = matchers.get(key);
    if (compiled === undefined) {
      compiled = compileHttpMatcher(matcher);
      matchers.set(key, compiled);
    }
    return compiled;
  };
  for (const [id, networkPolicy] of Object.entries(policy.network_policies)) {
    const binaryPatterns = networkPolicy.binaries.map((binary) => binary.path);
    const compiledPolicy: CompiledNetworkPolicy = {
      id,
      name: networkPolicy.name,
      binaryPatterns,
      binarySummary: describeBinaries(binaryPatterns),
      matchBinary: compileBinaries(networkPolicy.binaries),
    };
    networkPolicies.push(compiledPolicy);
    for (const endpoint of networkPolicy.endpoints) {
      const host = normalizeHost(endpoint.host);
      const rules = endpoint.rules.map(compileMatcher);
      const ruleLabels = [...new Set(rules.map((r) => r.label))];
      const entry: CompiledEndpoint = {
        policy: compiledPolicy,
        endpoint,
        ordinal: endpoints.length,
        host,
        matchHost: compileNormalisedHostPattern(host),
        inspected: endpoint.protocol === 'rest',
        audit: endpoint.enforcement === 'audit',
        rules,
        denyRules: endpoint.deny_rules.map(compileMatcher),
        ruleLabels,
        ruleSummary: describeRules(ruleLabels),
        endpointList: [endpoint],
      };
      endpoints.push(entry);
      addToHostIndex(anyPort, entry);
      for (const port of new Set(endpoint.ports)) {
        let index = byPort.get(port);
        if (index === undefined) {
          index = createHostIndex();
          byPort.set(port, index);
        }
        addToHostIndex(index, entry);
      }
    }
  }
  return { source: policy, networkPolicies, endpoints, byPort, anyPort };
}
