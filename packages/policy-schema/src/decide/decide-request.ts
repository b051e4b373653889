import type { Decision, DecisionAction, Endpoint } from '../types.js';
import type { CompiledEndpoint } from '../compile/compile-policy.js';
import {
  isAllowMatch,
  isDenyMatch,
  type CanonicalRequest,
  type CompiledHttpMatcher,
} from '../compile/compile-http-matcher.js';
import { canonicalizeTarget } from './canonicalize-target.js';
import { describeRules, toHostPort, toL4Rule, toSafeText } from './describe.js';

/** An endpoint that matched host and port, from a policy that lists the caller. */
export interface MatchedEndpoint {
  readonly entry: CompiledEndpoint;
  /** The listed executable: the caller's or an ancestor's. */
  readonly binary: string;
}

export interface RequestContext {
  readonly method: string;
  readonly target: string;
  /** Normalised. */
  readonly host: string;
  readonly port: number;
  /** Non-empty, in policy order. */
  readonly matched: readonly MatchedEndpoint[];
}

// RFC 9110 §5.6.2 token; anything else is not a method we can match a rule against.
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

interface Hit {
  readonly match: MatchedEndpoint;
  readonly rule: CompiledHttpMatcher;
  readonly path: string;
}

/**
 * L7 decision for one HTTP request, after the L4 match:
 * 1. an L4-only endpoint (no `protocol`) among the matches allows the request uninspected;
 * 2. the target is canonicalised (`canonicalize-target.ts`); `%2F` passes only when EVERY
 *    matching endpoint sets `allow_encoded_slash`; a target that cannot be canonicalised is
 *    denied even under `audit`, since no rule can be evaluated against it;
 * 3. deny rules of every matching endpoint win over allows — under either path reading, and
 *    with or without a trailing slash;
 * 4. otherwise some allow rule must admit every path reading; else the request is denied.
 * `enforcement: audit` on the deciding endpoint turns a deny into `audit` (forward and log);
 * for a default deny the deciding endpoint is the first enforcing one, so one `audit`
 * endpoint cannot open a host that another policy enforces.
 */
export function decideRequest(ctx: RequestContext): Decision {
  const { matched, port } = ctx;
  const first = matched[0];
  if (first === undefined) throw new Error('decideRequest needs at least one matched endpoint');
  const endpoints = matched.length === 1 ? first.entry.endpointList : matched.map(toEndpoint);

  const uninspected = matched.find(isUninspected);
  if (uninspected !== undefined) {
    return {
      action: 'allow',
      layer: 'l4',
      policy: uninspected.entry.policy.id,
      policyName: uninspected.entry.policy.name,
      rule: toL4Rule(uninspected.entry.host, port),
      reason: `${toHostPort(ctx.host, port)} allowed by policy ${uninspected.entry.policy.id} at L4 (endpoint has no protocol; requests are not inspected)`,
      matchedBinary: uninspected.binary,
      inspect: false,
      endpoints,
    };
  }

  const method = toMethod(ctx.method);
  if (method === null) {
    return refuse(first, endpoints, `invalid HTTP method ${toSafeText(ctx.method)}; denied`);
  }
  const allowEncodedSlash = matched.every(isEncodedSlashAllowed);
  const canonical = canonicalizeTarget(
    ctx.target,
    allowEncodedSlash ? KEEP_ENCODED_SLASH : REFUSE_ENCODED_SLASH,
  );
  if (!canonical.ok) {
    const hostPort = toHostPort(ctx.host, port);
    return refuse(
      first,
      endpoints,
      `${method} request to ${hostPort} refused: ${canonical.reason}`,
    );
  }
  const readings =
    canonical.literalPath === undefined
      ? [canonical.path]
      : [canonical.path, canonical.literalPath];
  const request: CanonicalRequest = { method, query: canonical.query };
  const outcome: Outcome = { request, endpoints, canonicalPath: canonical.path };

  // Many frameworks (Express without strict routing, Django's APPEND_SLASH) serve `/x/` as
  // `/x`, so a deny rule is also tried without the trailing slash. Allows stay strict.
  const denyReadings = readings.some(hasTrailingSlash)
    ? readings.flatMap((path) => (hasTrailingSlash(path) ? [path, path.slice(0, -1)] : [path]))
    : readings;
  let auditedDeny: Hit | null = null;
  for (const match of matched) {
    for (const rule of match.entry.denyRules) {
      for (const path of denyReadings) {
        if (!isDenyMatch(rule, request, path)) continue;
        const hit: Hit = { match, rule, path };
        if (!match.entry.audit) return denyByRule(outcome, hit, 'deny');
        auditedDeny ??= hit;
      }
    }
  }

  let allowed: Hit | null = null;
  let unmatchedPath: string | null = null;
  for (const path of readings) {
    const hit = findAllow(matched, request, path);
    if (hit === null) {
      unmatchedPath = path;
      break;
    }
    allowed ??= hit;
  }
  if (unmatchedPath === null && allowed !== null) {
    if (auditedDeny !== null) return denyByRule(outcome, auditedDeny, 'audit');
    return toDecision(
      outcome,
      'allow',
      allowed.match,
      allowed.rule.label,
      `${method} ${toSafeText(allowed.path)} allowed by rule "${allowed.rule.label}" of policy ${allowed.match.entry.policy.id}`,
    );
  }

  const failing = unmatchedPath ?? canonical.path;
  const enforcing = matched.find(isEnforcing);
  // Only audit endpoints match and one of their deny rules fired: that rule is the reason.
  if (enforcing === undefined && auditedDeny !== null) {
    return denyByRule(outcome, auditedDeny, 'audit');
  }
  const deciding = enforcing ?? first;
  const allowedRules =
    matched.length === 1
      ? first.entry.ruleSummary
      : describeRules([...new Set(matched.flatMap((m) => m.entry.ruleLabels))]);
  return toDecision(
    outcome,
    enforcing === undefined ? 'audit' : 'deny',
    deciding,
    `${method} ${failing}`,
    `${method} ${toSafeText(failing)} not permitted by policy ${deciding.entry.policy.id} on ${toHostPort(ctx.host, port)} (allowed: ${allowedRules})${enforcing === undefined ? AUDIT_NOTE : ''}`,
  );
}

const KEEP_ENCODED_SLASH = { allowEncodedSlash: true } as const;
const REFUSE_ENCODED_SLASH = { allowEncodedSlash: false } as const;
const AUDIT_NOTE = '; enforcement: audit, forwarded';
// Methods seen on nearly every request skip the token check and the upper-casing.
const COMMON_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The upper-case method, or null when it is not an RFC 9110 token. */
function toMethod(method: string): string | null {
  if (COMMON_METHODS.has(method)) return method;
  return METHOD_TOKEN.test(method) ? method.toUpperCase() : null;
}

function toEndpoint(match: MatchedEndpoint): Endpoint {
  return match.entry.endpoint;
}

function isUninspected(match: MatchedEndpoint): boolean {
  return !match.entry.inspected;
}

function isEnforcing(match: MatchedEndpoint): boolean {
  return !match.entry.audit;
}

function isEncodedSlashAllowed(match: MatchedEndpoint): boolean {
  return match.entry.endpoint.allow_encoded_slash;
}

/** What every L7 decision after canonicalisation shares. */
interface Outcome {
  readonly request: CanonicalRequest;
  readonly endpoints: readonly Endpoint[];
  readonly canonicalPath: string;
}

function toDecision(
  outcome: Outcome,
  action: DecisionAction,
  by: MatchedEndpoint,
  rule: string,
  reason: string,
): Decision {
  return {
    action,
    layer: 'l7',
    policy: by.entry.policy.id,
    policyName: by.entry.policy.name,
    rule,
    reason,
    matchedBinary: by.binary,
    inspect: false,
    endpoints: outcome.endpoints,
    canonicalPath: outcome.canonicalPath,
  };
}

/** A request that cannot be evaluated (bad method or target): denied even under audit. */
function refuse(first: MatchedEndpoint, endpoints: readonly Endpoint[], reason: string): Decision {
  return {
    action: 'deny',
    layer: 'l7',
    policy: first.entry.policy.id,
    policyName: first.entry.policy.name,
    rule: null,
    reason,
    matchedBinary: first.binary,
    inspect: false,
    endpoints,
  };
}

function denyByRule(outcome: Outcome, hit: Hit, action: 'deny' | 'audit'): Decision {
  const { method } = outcome.request;
  return toDecision(
    outcome,
    action,
    hit.match,
    hit.rule.label,
    `${method} ${toSafeText(hit.path)} blocked by deny rule "${hit.rule.label}" of policy ${hit.match.entry.policy.id}${action === 'audit' ? AUDIT_NOTE : ''}`,
  );
}

function findAllow(
  matched: readonly MatchedEndpoint[],
  request: CanonicalRequest,
  path: string,
): Hit | null {
  for (const match of matched) {
    for (const rule of match.entry.rules) {
      if (isAllowMatch(rule, request, path)) return { match, rule, path };
    }
  }
  return null;
}

function hasTrailingSlash(path: string): boolean {
  return path.length > 1 && path.endsWith('/');
}
