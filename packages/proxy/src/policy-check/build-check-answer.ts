import { decide, type CompiledPolicy, type Decision } from '@openshell/policy-schema';
import type { CallerIdentity } from '../caller/caller-resolver.js';
import { classifyAddress, isAllowedIp } from '../ssrf/classify-address.js';
import { parseIp } from '../ssrf/ip-address.js';
import type { CheckQuery } from './parse-check-query.js';

/** The JSON body of a `/v1/check` answer. */
export interface CheckAnswer {
  readonly action: Decision['action'];
  /** Id of the deciding network policy, or null when nothing matched. */
  readonly policy: string | null;
  readonly policy_name: string | null;
  /** The deciding rule, e.g. `GET /repos/**` or `L4 api.github.com:443`. */
  readonly rule: string | null;
  readonly reason: string;
  readonly layer: 'l4' | 'l7';
  readonly host: string;
  readonly port: number;
  readonly method: string;
  /** The canonical path decide() matched (query removed); the path as given at L4. */
  readonly path: string;
  /** The binary the answer is for. */
  readonly binary: string;
  /** `caller`: the process that asked (exe and ancestors, as for a real request); `query`: binary=. */
  readonly binary_source: 'caller' | 'query';
  /** Which binary the policy matched (the caller's or an ancestor's). */
  readonly matched_binary: string | null;
  readonly note: string;
}

export interface CheckResult {
  readonly answer: CheckAnswer;
  /** The decision behind the answer, for the decision event. */
  readonly decision: Decision;
}

const NOTE_CALLER =
  'a check only: nothing was sent; host names are not resolved here (a real request is also refused when the name resolves to an internal address not in allowed_ips)';
const NOTE_QUERY = `${NOTE_CALLER}; binary= is informational: decided for that path alone, without ancestors, while a real request is identified from the kernel's view of the calling process`;

/**
 * Decides a hypothetical request with the same steps as a real one (L4, then L7 with
 * method and canonical path when the endpoint is inspected) against the caller's sandbox
 * policy. It never resolves names or dials: IP literals get the static SSRF check only.
 */
export function buildCheckAnswer(
  compiled: CompiledPolicy,
  query: CheckQuery,
  caller: CallerIdentity,
): CheckResult {
  const who =
    query.binary === null
      ? { binary: caller.exe, ancestors: caller.ancestors }
      : { binary: query.binary, ancestors: [] };
  const base = { host: query.host, port: query.port, ...who };
  const l4 = decide(compiled, base);
  let decision = l4;
  if (l4.action !== 'deny') {
    const ssrf = checkLiteralAddress(query.host, l4);
    if (ssrf !== null) decision = { ...l4, action: 'deny', reason: ssrf };
    else if (l4.inspect)
      decision = decide(compiled, { ...base, method: query.method, target: query.target });
  }
  const q = query.target.indexOf('?');
  return {
    decision,
    answer: {
      action: decision.action,
      policy: decision.policy ?? l4.policy,
      policy_name: decision.policyName ?? l4.policyName,
      rule: decision.rule,
      reason: decision.reason,
      layer: decision.layer,
      host: query.host,
      port: query.port,
      method: query.method,
      path: decision.canonicalPath ?? (q === -1 ? query.target : query.target.slice(0, q)),
      binary: who.binary,
      binary_source: query.binary === null ? 'caller' : 'query',
      matched_binary: decision.matchedBinary,
      note: query.binary === null ? NOTE_CALLER : NOTE_QUERY,
    },
  };
}

/** The SSRF rule for an IP literal (no lookup needed); null when it passes or is a name. */
function checkLiteralAddress(host: string, l4: Decision): string | null {
  if (parseIp(host) === null) return null;
  const verdict = classifyAddress(host);
  if (verdict.class === 'public') return null;
  const allowedIps = (l4.endpoints ?? []).flatMap((e) => e.allowed_ips);
  if (verdict.class === 'private' && isAllowedIp(host, allowedIps)) return null;
  return verdict.class === 'blocked'
    ? `${host} is a ${verdict.range} address, which the proxy never reaches (SSRF protection)`
    : `${host} is a private (${verdict.range}) address not listed in the endpoint's allowed_ips (SSRF protection)`;
}
