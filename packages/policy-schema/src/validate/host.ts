import type { PolicyDiagnosticCode } from '../diagnostic-codes.js';
import { findInternalOverlap, parseIp, parseIpv4, parseIpv6 } from './ip-address.js';

export interface HostFinding {
  readonly code: PolicyDiagnosticCode;
  readonly message: string;
  readonly expected: string;
}

const EXPECTED_HOST =
  'a host name, an IP literal, or a wildcard such as "*.example.com" or "**.example.com"';
const MAX_HOST_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;

/**
 * Checks an endpoint host (REFERENCE.md "Policy file"): exact names, IP literals, and the
 * wildcard forms whose reach is bounded by a registrable domain. Wildcards are refused
 * wherever they could match hosts the author cannot have meant (`*.com` matches every
 * .com site; `a*b` in a middle label has no agreed meaning between engines).
 */
export function checkHost(raw: string): HostFinding | undefined {
  const host = raw.toLowerCase();
  const shown = JSON.stringify(raw);
  if (host === '') return invalid('host is empty — write the host name, e.g. "api.example.com"');
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(host) || host.includes('/')) {
    const name = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/:]*)/.exec(host)?.[1] || 'api.example.com';
    return invalid(`${shown} is a URL — write only the host name, e.g. "${name}"`);
  }
  if (/^[^:[\]]+:[0-9]+$/.test(host)) {
    const [name, port] = host.split(':');
    return invalid(`${shown} includes a port — write "host: ${name}" and "port: ${port}"`);
  }
  if (host.startsWith('[') || host.includes(':')) return checkIpv6(host, shown);
  if (host.length > MAX_HOST_LENGTH) {
    return invalid(`host is ${host.length} characters long — a DNS name has at most 253`);
  }
  const labels = host.split('.');
  if (labels.some((label) => label === '')) {
    return invalid(`${shown} has an empty label — remove the leading, trailing or doubled "."`);
  }
  const badCharacter = /[^a-z0-9_*.-]/.exec(host);
  if (badCharacter !== null) {
    return invalid(
      `${shown} contains ${JSON.stringify(badCharacter[0])} — a host name holds letters, digits, "-", "_" and "." (wildcards: "*")`,
    );
  }
  const longLabel = labels.find((label) => label.length > MAX_LABEL_LENGTH);
  if (longLabel !== undefined) {
    return invalid(`${shown} has a label longer than 63 characters`);
  }
  if (host.includes('*')) return checkWildcard(labels, shown);
  if (/^[0-9]+$/.test(labels.at(-1) ?? '')) return checkIpv4(host, shown);
  return undefined;
}

function checkWildcard(labels: readonly string[], shown: string): HostFinding | undefined {
  if (labels.length === 1 && (labels[0] === '*' || labels[0] === '**')) {
    return {
      code: 'ERR_POLICY_HOST_TOO_BROAD',
      message: `${shown} matches every host — name the hosts, or use a wildcard under a domain such as "*.example.com"`,
      expected: EXPECTED_HOST,
    };
  }
  const last = labels.length - 1;
  for (const [index, label] of labels.entries()) {
    if (!label.includes('*')) continue;
    if (
      labels.slice(0, last).every((l) => /^[0-9*]+$/.test(l)) &&
      /^[0-9*]+$/.test(labels[last] ?? '')
    ) {
      return misplaced(
        `${shown} is an IP wildcard — IP ranges are not host patterns; list each address as its own endpoint`,
      );
    }
    if (index === last) {
      return misplaced(
        `${shown} has a wildcard in the top-level domain — wildcards may only stand for labels in front of a registrable domain, e.g. "*.example.com"`,
      );
    }
    if (label.includes('**') && (index !== 0 || label !== '**')) {
      return misplaced(
        `${shown} uses "**" ${index === 0 ? 'inside' : 'after'} the first label — "**" (one or more labels) is only allowed as the whole first label, e.g. "**.example.com"`,
      );
    }
    if (index > 0 && label !== '*') {
      return misplaced(
        `${shown} has a partial wildcard in a middle label — a middle label may only be a whole "*", e.g. "*.s3.*.amazonaws.com"`,
      );
    }
  }
  const literalSuffix = labels.length - 1 - labels.findLastIndex((label) => label.includes('*'));
  if (literalSuffix < 2) {
    const wildcardPart = labels.slice(0, labels.length - literalSuffix).join('.');
    return {
      code: 'ERR_POLICY_HOST_TOO_BROAD',
      message: `${shown} is too broad — use a registrable domain such as "${wildcardPart}.example.${labels[last] ?? 'com'}"`,
      expected: 'a wildcard followed by at least two literal labels, e.g. "*.example.com"',
    };
  }
  return undefined;
}

function checkIpv4(host: string, shown: string): HostFinding | undefined {
  if (parseIpv4(host) === undefined) {
    return invalid(
      `${shown} is not a valid IPv4 address (four numbers 0..255 without leading zeros)`,
    );
  }
  return checkInternal(host, shown);
}

function checkIpv6(host: string, shown: string): HostFinding | undefined {
  const inner = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (parseIpv6(inner) === undefined) {
    return invalid(
      `${shown} is not a valid IPv6 address (zone ids such as "%eth0" are not supported)`,
    );
  }
  return checkInternal(inner, shown);
}

function checkInternal(address: string, shown: string): HostFinding | undefined {
  const value = parseIp(address);
  const overlap =
    value === undefined ? undefined : findInternalOverlap({ start: value, end: value });
  if (overlap === undefined) return undefined;
  return {
    code: 'ERR_POLICY_HOST_INTERNAL',
    message: `${shown} is a ${overlap.kind} address (${overlap.cidr}) — the proxy never connects to loopback, link-local, unspecified or multicast addresses, so this endpoint could never be used`,
    expected: 'a public host name or address, or a private one listed in allowed_ips',
  };
}

function invalid(message: string): HostFinding {
  return { code: 'ERR_POLICY_HOST_INVALID', message, expected: EXPECTED_HOST };
}

function misplaced(message: string): HostFinding {
  return { code: 'ERR_POLICY_HOST_WILDCARD', message, expected: EXPECTED_HOST };
}
