import type { DecisionAction } from '@openshell/policy-schema';

/**
 * Why the proxy answered the way it did, as a stable code. `policy_denied` and `allowed`
 * come from decide(); the others are checks the proxy makes around it.
 */
export type DecisionOutcome =
  | 'allowed'
  | 'policy_denied'
  | 'ssrf_denied'
  | 'identity_unknown'
  | 'sandbox_unknown'
  | 'credential_endpoint_mismatch'
  | 'credential_unavailable'
  | 'request_authority_mismatch'
  | 'tunnel_limit'
  | 'tunnel_closed_by_reload'
  // Inference router (inference.local): the first two forward, the rest refuse.
  | 'inference_routed'
  | 'inference_kept_local'
  | 'inference_refused'
  | 'inference_path_denied'
  | 'inference_not_enabled'
  | 'inference_bad_request'
  | 'no_compatible_route'
  | 'inference_route_unavailable'
  // Policy check (http://policy.local/v1/check): an answer (action = what a real request
  // would get, nothing sent), or a malformed/refused check.
  | 'policy_check'
  | 'policy_check_refused';

/**
 * One structured record per decision (OCSF-style fields, DESIGN §4). Never contains a
 * query string, a header value, a body, a placeholder or a secret.
 */
export interface DecisionEvent {
  /** ISO-8601 time of the decision. */
  readonly time: string;
  readonly sandbox: string | null;
  readonly binary: string | null;
  readonly pid: number | null;
  readonly ancestors: readonly string[];
  readonly host: string;
  readonly port: number;
  /** `CONNECT` for tunnels; the HTTP method for requests. */
  readonly method: string;
  /** Canonical path without the query; null at L4. */
  readonly path: string | null;
  /** Deciding policy id. */
  readonly policy: string | null;
  /** The policy's binary entry (path or glob) the caller matched; null when none did. */
  readonly matchedBinary: string | null;
  /** The deciding rule; for inference requests, the sensitivity rule that matched. */
  readonly rule: string | null;
  readonly action: DecisionAction;
  readonly outcome: DecisionOutcome;
  readonly reason: string;
  readonly layer: 'l4' | 'l7';
  /** The policy version in force for the sandbox when deciding. */
  readonly policyVersion: number | null;
  /** Inference requests: the route chosen (or refused). `rule` then names the sensitivity rule. */
  readonly route?: string;
}

/** Receives every decision event; the gateway plugs in here. Must not throw (errors are dropped). */
export type DecisionSink = (event: DecisionEvent) => void;

const PLACEHOLDER = /openshell:resolve:env:[A-Za-z0-9_]*/g;

/** Removes the query and any credential placeholder from a request target, for logging. */
export function redactTarget(target: string): string {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  return path.replace(PLACEHOLDER, 'openshell:resolve:env:[REDACTED]');
}
