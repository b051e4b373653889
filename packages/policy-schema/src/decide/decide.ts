import type { Decision, DecisionRequest } from '../types.js';
import type {
  CompiledEndpoint,
  CompiledNetworkPolicy,
  CompiledPolicy,
} from '../compile/compile-policy.js';
import { findEndpoints } from '../compile/host-index.js';
import { toValidHost } from '../match/normalize-host.js';
import {
  describeBinaryMiss,
  describeCaller,
  describeOtherPorts,
  toHostPort,
  toL4Rule,
  toSafeText,
} from './describe.js';
import { decideRequest, type MatchedEndpoint } from './decide-request.js';

/**
 * Decides one connection (L4, `req.method` absent) or one HTTP request inside an inspected
 * connection (L7, `req.method` and `req.target` present). Pure and total: it never throws —
 * malformed input or an internal error yields a deny whose reason says why (fail closed).
 *
 * L4: allowed iff some network policy has an endpoint matching host and port AND lists the
 * caller's binary or one of its ancestors. Misses are denied whatever `enforcement` says.
 * `inspect` is true when every matching endpoint has `protocol: rest` (an L4-only endpoint
 * among them allows every request anyway, so terminating TLS would buy nothing).
 * L7: see `decide-request.ts`.
 * @example decide(compilePolicy(policy), { host: 'api.github.com', port: 443, binary: '/usr/bin/curl' })
 */
export function decide(compiled: CompiledPolicy, req: DecisionRequest): Decision {
  try {
    return decideOrThrow(compiled, req);
  } catch (error) {
    // Fail closed: a bug or a hostile input must never turn into an allow.
    const message = error instanceof Error ? error.message : String(error);
    return deny(
      typeof req?.method === 'string' ? 'l7' : 'l4',
      `internal error while deciding (${toSafeText(message)}); denied to fail closed`,
    );
  }
}

function deny(layer: Decision['layer'], reason: string): Decision {
  return {
    action: 'deny',
    layer,
    policy: null,
    policyName: null,
    rule: null,
    reason,
    matchedBinary: null,
    inspect: false,
  };
}

function isAbsolutePath(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('/');
}

const NO_ANCESTORS: readonly string[] = [];
const NO_ENDPOINTS: readonly CompiledEndpoint[] = [];

/** The caller first, then its ancestors nearest first; only absolute paths can be listed. */
function findListedBinary(
  policy: CompiledNetworkPolicy,
  binary: string,
  ancestors: readonly unknown[],
): string | null {
  if (isAbsolutePath(binary) && policy.matchBinary(binary)) return binary;
  for (const ancestor of ancestors) {
    if (isAbsolutePath(ancestor) && policy.matchBinary(ancestor)) return ancestor;
  }
  return null;
}

function decideOrThrow(compiled: CompiledPolicy, req: DecisionRequest): Decision {
  const isRequest = req.method !== undefined || req.target !== undefined;
  const layer = isRequest ? 'l7' : 'l4';
  if (isRequest && (typeof req.method !== 'string' || typeof req.target !== 'string')) {
    return deny('l7', 'an HTTP request needs both method and target; denied');
  }
  if (typeof req.host !== 'string') return deny(layer, 'request has no host; denied');
  if (!Number.isInteger(req.port) || req.port < 1 || req.port > 65535) {
    return deny(layer, `invalid port ${toSafeText(req.port)}; denied`);
  }
  const host = toValidHost(req.host);
  if (host === null) return deny('l4', `invalid host ${toSafeText(req.host)}; denied`);
  const { port } = req;

  const index = compiled.byPort.get(port);
  const candidates = index === undefined ? NO_ENDPOINTS : findEndpoints(index, host);
  if (candidates.length === 0) {
    const elsewhere = findEndpoints(compiled.anyPort, host).map((entry) => ({
      ports: entry.endpoint.ports,
      policyId: entry.policy.id,
    }));
    return deny(
      'l4',
      `no network policy allows ${toHostPort(host, port)}${describeOtherPorts(host, port, elsewhere)}`,
    );
  }

  const binary = typeof req.binary === 'string' ? req.binary : '';
  const ancestors: readonly unknown[] = Array.isArray(req.ancestors) ? req.ancestors : NO_ANCESTORS;
  const matched: MatchedEndpoint[] = [];
  let lastPolicy: CompiledNetworkPolicy | null = null;
  let lastBinary: string | null = null;
  for (const entry of candidates) {
    // Candidates are in policy order, so one policy's endpoints are adjacent.
    if (entry.policy !== lastPolicy) {
      lastPolicy = entry.policy;
      lastBinary = findListedBinary(entry.policy, binary, ancestors);
    }
    if (lastBinary !== null) matched.push({ entry, binary: lastBinary });
  }
  const first = matched[0];
  if (first === undefined) {
    const listed = ancestors.filter(isAbsolutePath);
    const missed = [...new Set(candidates.map((entry) => entry.policy))];
    return deny('l4', describeBinaryMiss(binary, listed, toHostPort(host, port), missed));
  }
  if (isRequest) {
    return decideRequest({
      method: req.method ?? '',
      target: req.target ?? '',
      host,
      port,
      matched,
    });
  }
  return allowConnection(first, matched, host, port, binary);
}

function allowConnection(
  first: MatchedEndpoint,
  matched: readonly MatchedEndpoint[],
  host: string,
  port: number,
  binary: string,
): Decision {
  const inspect = matched.every((m) => m.entry.inspected);
  const { policy } = first.entry;
  return {
    action: 'allow',
    layer: 'l4',
    policy: policy.id,
    policyName: policy.name,
    rule: toL4Rule(first.entry.host, port),
    reason: `${toHostPort(host, port)} allowed by policy ${policy.id} for ${describeCaller(first.binary, binary)}${inspect ? '; requests will be inspected (protocol: rest)' : ''}`,
    matchedBinary: first.binary,
    inspect,
    endpoints:
      matched.length === 1 ? first.entry.endpointList : matched.map((m) => m.entry.endpoint),
  };
}
