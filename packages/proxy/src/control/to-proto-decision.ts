import { compileHostPattern, type HostMatcher, type Policy } from '@openshell/policy-schema';
import {
  Action,
  DecisionLayer,
  Enforcement,
  type DecisionEvent as WireDecisionEvent,
} from '@openshell/proto';
import type { DecisionEvent, DecisionOutcome } from '../events/decision-event.js';

interface EndpointSummary {
  readonly matches: HostMatcher;
  readonly ports: readonly number[];
  readonly enforcement: 'enforce' | 'audit';
}

/** What the gateway's events need from a sandbox's policy, indexed once per apply. */
export interface SandboxSummary {
  readonly name: string;
  readonly policies: ReadonlyMap<
    string,
    { readonly name: string; readonly endpoints: readonly EndpointSummary[] }
  >;
}

/** Indexes a sandbox's network policies for event enrichment. */
export function summariseSandbox(name: string, policy: Policy): SandboxSummary {
  const policies = new Map(
    Object.entries(policy.network_policies).map(([id, p]) => [
      id,
      {
        name: p.name,
        endpoints: p.endpoints.map((e) => ({
          matches: compileHostPattern(e.host),
          ports: e.ports,
          enforcement: e.enforcement,
        })),
      },
    ]),
  );
  return { name, policies };
}

function toAction(action: DecisionEvent['action']): Action {
  switch (action) {
    case 'allow':
      return Action.ACTION_ALLOW;
    case 'deny':
      return Action.ACTION_DENY;
    case 'audit':
      return Action.ACTION_AUDIT;
  }
}

/** SSRF, credential and inference refusals get their own layer: no network rule overrides them. */
function toLayer(outcome: DecisionOutcome, layer: DecisionEvent['layer']): DecisionLayer {
  switch (outcome) {
    case 'ssrf_denied':
      return DecisionLayer.DECISION_LAYER_SSRF;
    case 'credential_endpoint_mismatch':
    case 'credential_unavailable':
      return DecisionLayer.DECISION_LAYER_CREDENTIAL;
    case 'inference_routed':
    case 'inference_kept_local':
    case 'inference_refused':
    case 'inference_path_denied':
    case 'inference_not_enabled':
    case 'inference_bad_request':
    case 'no_compatible_route':
    case 'inference_route_unavailable':
      return DecisionLayer.DECISION_LAYER_INFERENCE;
    case 'allowed':
    case 'policy_denied':
    case 'identity_unknown':
    case 'sandbox_unknown':
    case 'request_authority_mismatch':
    case 'tunnel_limit':
    case 'tunnel_closed_by_reload':
    case 'policy_check':
    case 'policy_check_refused':
      return layer === 'l7' ? DecisionLayer.DECISION_LAYER_L7 : DecisionLayer.DECISION_LAYER_L4;
  }
}

/**
 * The deciding endpoint's `enforcement`. An audit decision is audit by definition; with no
 * deciding policy there is no endpoint (an L4 miss is denied whatever the mode). Otherwise
 * the endpoints of the deciding policy that match host:port say it: one enforcing endpoint
 * is enough for decide() to enforce.
 */
function toEnforcement(event: DecisionEvent, summary: SandboxSummary | undefined): Enforcement {
  if (event.action === 'audit') return Enforcement.ENFORCEMENT_AUDIT;
  if (event.policy === null) return Enforcement.ENFORCEMENT_UNSPECIFIED;
  const endpoints = (summary?.policies.get(event.policy)?.endpoints ?? []).filter(
    (e) => e.ports.includes(event.port) && e.matches(event.host),
  );
  if (endpoints.length > 0 && endpoints.every((e) => e.enforcement === 'audit'))
    return Enforcement.ENFORCEMENT_AUDIT;
  return Enforcement.ENFORCEMENT_ENFORCE;
}

/**
 * Converts a proxy decision to the wire shape. Nothing is added that the proxy's event did
 * not already carry apart from names from the pushed policy, so the no-secret guarantee of
 * DecisionEvent (no query, header, body, placeholder or secret) holds on the wire too.
 */
export function toProtoDecision(
  event: DecisionEvent,
  summary: SandboxSummary | undefined,
): WireDecisionEvent {
  const policyName = event.policy === null ? undefined : summary?.policies.get(event.policy)?.name;
  const l7 = event.method !== 'CONNECT';
  return {
    timeMs: Date.parse(event.time),
    sandboxId: event.sandbox ?? '',
    sandboxName: summary?.name ?? '',
    policyVersion: event.policyVersion ?? 0,
    binary: event.binary ?? '',
    ...(event.pid === null ? {} : { pid: event.pid }),
    ancestors: [...event.ancestors],
    host: event.host,
    port: event.port,
    // The proto keeps method and path for requests; a tunnel's "CONNECT" is implied by L4.
    ...(l7 ? { method: event.method } : {}),
    ...(event.path === null ? {} : { path: event.path }),
    action: toAction(event.action),
    layer: toLayer(event.outcome, event.layer),
    enforcement: toEnforcement(event, summary),
    ...(event.policy === null ? {} : { policy: event.policy }),
    ...(policyName === undefined ? {} : { policyName }),
    ...(event.rule === null ? {} : { rule: event.rule }),
    ...(event.matchedBinary === null ? {} : { matchedBinary: event.matchedBinary }),
    reason: event.reason,
    ...(event.action === 'deny' ? { denialCode: event.outcome } : {}),
    ...(event.route === undefined ? {} : { route: event.route }),
  };
}
