import { describeValue, getOwn, isRecord, listOf } from './guards.js';
import { checkHost } from './host.js';
import { validateHttpMatcher } from './http-matcher.js';
import { findInternalOverlap, parseCidr } from './ip-address.js';
import { createIssue, type Issue, type PathSegment } from './issue.js';
import { isUnsupportedProtocol } from './unsupported.js';

/** Checks one endpoint: host, ports, the L7 combination rules, allowed_ips and its matchers. */
export function validateEndpoint(endpoint: unknown, path: readonly PathSegment[]): Issue[] {
  if (!isRecord(endpoint)) return [];
  const issues: Issue[] = [];
  const host = getOwn(endpoint, 'host');
  if (typeof host === 'string') {
    const finding = checkHost(host);
    if (finding !== undefined) {
      issues.push(
        createIssue([...path, 'host'], finding.code, finding.message, {
          expected: finding.expected,
          actual: describeValue(host),
        }),
      );
    }
  }
  issues.push(...checkPorts(endpoint, path), ...checkAllowedIps(endpoint, path));
  // An unsupported protocol is reported on its own; L7 combination rules would only add noise.
  if (!isUnsupportedProtocol(getOwn(endpoint, 'protocol'))) {
    issues.push(...checkLayer7(endpoint, path));
  }
  return issues;
}

function checkPorts(endpoint: Record<string, unknown>, path: readonly PathSegment[]): Issue[] {
  const port = getOwn(endpoint, 'port');
  const ports = getOwn(endpoint, 'ports');
  if (port === undefined && ports === undefined) {
    return [
      createIssue(
        [...path, 'port'],
        'ERR_POLICY_PORT_MISSING',
        'endpoint has no port — add "port: 443" or "ports: [80, 443]"',
        {
          expected: 'port or ports',
          actual: 'absent',
        },
      ),
    ];
  }
  if (typeof port !== 'number' || !Array.isArray(ports)) return [];
  // OpenShell lets `ports` silently win; here the two must agree so a stale `port` cannot
  // mislead a reader about what is open.
  if (ports.includes(port)) {
    return [
      createIssue(
        [...path, 'port'],
        'WARN_POLICY_PORT_REDUNDANT',
        `port ${port} is already in ports — remove "port"`,
        {
          at: 'key',
        },
      ),
    ];
  }
  return [
    createIssue(
      [...path, 'port'],
      'ERR_POLICY_PORT_CONFLICT',
      `port ${port} is not in ports [${ports.map(String).join(', ')}] — set either port or ports, not both`,
      { at: 'key', expected: 'port to be one of ports', actual: String(port) },
    ),
  ];
}

function checkLayer7(endpoint: Record<string, unknown>, path: readonly PathSegment[]): Issue[] {
  const issues: Issue[] = [];
  const protocol = getOwn(endpoint, 'protocol');
  const tls = getOwn(endpoint, 'tls');
  const hasAccess = getOwn(endpoint, 'access') !== undefined;
  const hasRules = getOwn(endpoint, 'rules') !== undefined;
  const hasDeny = getOwn(endpoint, 'deny_rules') !== undefined;
  const isLayer7 = protocol === 'rest' || hasAccess || hasRules || hasDeny;
  if (hasAccess && hasRules) {
    issues.push(
      createIssue(
        [...path, 'rules'],
        'ERR_POLICY_ACCESS_AND_RULES',
        'endpoint sets both access and rules — use access for a preset or rules for explicit matchers, not both',
        { at: 'key', expected: 'access or rules', actual: 'both' },
      ),
    );
  }
  if (hasDeny && !hasAccess && !hasRules) {
    issues.push(
      createIssue(
        [...path, 'deny_rules'],
        'ERR_POLICY_DENY_WITHOUT_ALLOW',
        'deny_rules need an allow set to subtract from — add access (e.g. "access: read-only") or rules',
        { at: 'key', expected: 'access or rules beside deny_rules', actual: 'deny_rules only' },
      ),
    );
  } else if (protocol === 'rest' && !hasAccess && !hasRules) {
    issues.push(
      createIssue(
        [...path, 'protocol'],
        'ERR_POLICY_REST_WITHOUT_ALLOW',
        'protocol: rest without access or rules would deny every request — add "access: read-only" (or read-write, full, rules), or remove protocol for L4-only',
        { expected: 'access or rules', actual: 'neither' },
      ),
    );
  }
  if (tls === 'terminate' || tls === 'passthrough') {
    issues.push(
      createIssue(
        [...path, 'tls'],
        'WARN_POLICY_TLS_NOOP',
        `tls: ${tls} has no effect — TLS is detected and terminated when L7 rules need it; remove the key (or use "skip" for an opaque relay)`,
      ),
    );
  }
  if (
    tls === 'skip' &&
    (isLayer7 || getOwn(endpoint, 'request_body_credential_rewrite') === true)
  ) {
    issues.push(
      createIssue(
        [...path, 'tls'],
        'ERR_POLICY_TLS_SKIP_CONFLICT',
        `tls: skip relays opaque bytes, so ${isLayer7 ? 'L7 rules' : 'request body rewriting'} cannot be applied — remove "tls: skip" or the ${isLayer7 ? 'L7 fields (protocol, access, rules, deny_rules)' : 'rewrite option'}`,
        { expected: 'no tls: skip on an inspected endpoint', actual: '"skip"' },
      ),
    );
  }
  if (!isLayer7 && getOwn(endpoint, 'allow_encoded_slash') === true) {
    issues.push(
      createIssue(
        [...path, 'allow_encoded_slash'],
        'WARN_POLICY_ENCODED_SLASH_L4',
        'allow_encoded_slash has no effect on an L4-only endpoint — paths are only inspected with access or rules',
        { at: 'key' },
      ),
    );
  }
  for (const [index, rule] of listOf(getOwn(endpoint, 'rules')).entries()) {
    if (isRecord(rule)) {
      issues.push(
        ...validateHttpMatcher(getOwn(rule, 'allow'), [...path, 'rules', index, 'allow']),
      );
    }
  }
  for (const [index, matcher] of listOf(getOwn(endpoint, 'deny_rules')).entries()) {
    issues.push(...validateHttpMatcher(matcher, [...path, 'deny_rules', index]));
  }
  return issues;
}

function checkAllowedIps(endpoint: Record<string, unknown>, path: readonly PathSegment[]): Issue[] {
  const issues: Issue[] = [];
  for (const [index, entry] of listOf(getOwn(endpoint, 'allowed_ips')).entries()) {
    if (typeof entry !== 'string') continue;
    const at = [...path, 'allowed_ips', index];
    const range = parseCidr(entry);
    if (range === undefined) {
      issues.push(
        createIssue(
          at,
          'ERR_POLICY_ALLOWED_IP_INVALID',
          `${describeValue(entry)} is not an IP address or CIDR — write e.g. "10.0.5.0/24" or "fd00::/8"`,
          { expected: 'an IPv4/IPv6 address or CIDR', actual: describeValue(entry) },
        ),
      );
      continue;
    }
    const overlap = findInternalOverlap(range);
    if (overlap !== undefined) {
      issues.push(
        createIssue(
          at,
          'ERR_POLICY_ALLOWED_IP_INTERNAL',
          `${describeValue(entry)} overlaps ${overlap.kind} ${overlap.cidr} — the proxy never connects to loopback, link-local (cloud metadata), unspecified or multicast addresses; list only the private range you need, e.g. "10.0.5.0/24"`,
          {
            expected: 'a private range outside internal address space',
            actual: describeValue(entry),
          },
        ),
      );
    }
  }
  return issues;
}
