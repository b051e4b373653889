import { Document, isScalar, visit } from 'yaml';
import { expandAccessPreset } from './default-policy.js';
import { toCanonicalJson } from './hash-policy.js';
import type { Endpoint, HttpMatcher, InferencePolicy, NetworkPolicy, Policy } from './types.js';

/**
 * A policy as a readable YAML body (what `policy get --full` prints under `---`). Field
 * defaults are left out (tls auto, empty deny_rules, ...) and an endpoint written with
 * `access` shows `access`, not the expanded rules. parsePolicy on the result yields a
 * policy with the same hash, for every policy parsePolicy produced.
 */
export function policyToYaml(policy: Policy): string {
  const doc = new Document(toPlain(policy), { version: '1.2' });
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    },
    Map(_, node) {
      // Binaries, matchers and plain host:port endpoints read best on one line.
      const keys = node.items.map((pair) => (isScalar(pair.key) ? pair.key.value : undefined));
      const isBinary = keys.length === 1 && keys[0] === 'path';
      const isPlainEndpoint = keys.length === 2 && keys[0] === 'host' && keys[1] === 'port';
      if (isBinary || isPlainEndpoint || keys.includes('method')) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 100, flowCollectionPadding: false });
}

function toPlain(policy: Policy): Record<string, unknown> {
  return {
    version: policy.version,
    filesystem_policy: {
      include_workdir: policy.filesystem_policy.include_workdir,
      read_only: [...policy.filesystem_policy.read_only],
      read_write: [...policy.filesystem_policy.read_write],
    },
    landlock: { compatibility: policy.landlock.compatibility },
    process: {
      run_as_user: policy.process.run_as_user,
      run_as_group: policy.process.run_as_group,
    },
    // Left out when empty (it defaults to empty): a user appending a `network_policies:`
    // block to `policy get --full` output then gets valid YAML, not a second key after `{}`.
    ...(Object.keys(policy.network_policies).length === 0
      ? {}
      : {
          network_policies: Object.fromEntries(
            Object.entries(policy.network_policies).map(([id, rule]) => [
              id,
              networkPolicyToPlain(rule),
            ]),
          ),
        }),
    ...(policy.inference === undefined ? {} : { inference: inferenceToPlain(policy.inference) }),
  };
}

function networkPolicyToPlain(rule: NetworkPolicy): Record<string, unknown> {
  return {
    name: rule.name,
    endpoints: rule.endpoints.map(endpointToPlain),
    binaries: rule.binaries.map((binary) => ({ path: binary.path })),
  };
}

function endpointToPlain(endpoint: Endpoint): Record<string, unknown> {
  const showAccess = endpoint.access !== undefined && isPresetExpansion(endpoint);
  return {
    host: endpoint.host,
    ...(endpoint.ports.length === 1 ? { port: endpoint.ports[0] } : { ports: [...endpoint.ports] }),
    ...(endpoint.protocol === undefined ? {} : { protocol: endpoint.protocol }),
    ...(endpoint.tls === 'skip' ? { tls: 'skip' } : {}),
    // Printed for every inspected endpoint: readers who know OpenShell expect audit as default.
    ...(endpoint.protocol !== undefined || endpoint.enforcement !== 'enforce'
      ? { enforcement: endpoint.enforcement }
      : {}),
    ...(showAccess ? { access: endpoint.access } : {}),
    ...(!showAccess && endpoint.rules.length > 0
      ? { rules: endpoint.rules.map((rule) => ({ allow: matcherToPlain(rule) })) }
      : {}),
    ...(endpoint.deny_rules.length > 0
      ? { deny_rules: endpoint.deny_rules.map(matcherToPlain) }
      : {}),
    ...(endpoint.allowed_ips.length > 0 ? { allowed_ips: [...endpoint.allowed_ips] } : {}),
    ...(endpoint.allow_encoded_slash ? { allow_encoded_slash: true } : {}),
    ...(endpoint.request_body_credential_rewrite ? { request_body_credential_rewrite: true } : {}),
  };
}

// A Policy built by hand (not by parsePolicy) could carry `access` beside other rules; then
// the rules are what is enforced, so they are what gets printed.
function isPresetExpansion(endpoint: Endpoint): boolean {
  if (endpoint.access === undefined) return false;
  return toCanonicalJson(expandAccessPreset(endpoint.access)) === toCanonicalJson(endpoint.rules);
}

function matcherToPlain(matcher: HttpMatcher): Record<string, unknown> {
  return {
    method: matcher.method,
    path: matcher.path,
    ...(matcher.query === undefined
      ? {}
      : {
          query: Object.fromEntries(
            Object.entries(matcher.query).map(([key, globs]) => [
              key,
              globs.length === 1 ? globs[0] : { any: [...globs] },
            ]),
          ),
        }),
  };
}

function inferenceToPlain(inference: InferencePolicy): Record<string, unknown> {
  return {
    default_route: inference.default_route,
    routes: Object.fromEntries(
      Object.entries(inference.routes).map(([name, route]) => [
        name,
        { kind: route.kind, ...(route.models.length > 0 ? { models: [...route.models] } : {}) },
      ]),
    ),
    ...(inference.sensitivity.length > 0
      ? { sensitivity: inference.sensitivity.map((rule) => ({ ...rule })) }
      : {}),
  };
}
