import { formatAuthority } from './request-target.js';

/** A response the proxy generates itself (never one relayed from upstream). */
export interface ProxyResponse {
  readonly status: number;
  readonly reason: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
}

/** L4 refusal, shaped exactly as REFERENCE.md "Denials seen by the agent". */
export function l4Denied(method: string, host: string, port: number): ProxyResponse {
  return {
    status: 403,
    reason: 'Forbidden',
    body: {
      error: 'policy_denied',
      detail: `${method} ${formatAuthority(host, port)} not permitted by policy`,
    },
  };
}

export function ssrfDenied(method: string, host: string, port: number): ProxyResponse {
  return {
    status: 403,
    reason: 'Forbidden',
    body: {
      error: 'ssrf_denied',
      detail: `${method} ${formatAuthority(host, port)} blocked: internal address`,
    },
  };
}

export interface L7DenialInput {
  readonly policyName: string | null;
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly port: number;
  readonly binary: string;
  readonly sandbox: string;
}

/**
 * L7 refusal: the body names the policy, the missing rule and what to do next, so an
 * agent can explain the denial or propose a policy change instead of retrying blindly.
 */
export function l7Denied(input: L7DenialInput): ProxyResponse {
  const rule = `${input.method} ${input.path}`;
  const authority = formatAuthority(input.host, input.port);
  const policy = input.policyName ?? '-';
  return {
    status: 403,
    reason: 'Forbidden',
    headers: { 'X-OpenShell-Policy': policy },
    body: {
      error: 'policy_denied',
      policy,
      rule,
      detail: `${rule} not permitted by policy`,
      method: input.method,
      path: input.path,
      host: input.host,
      port: input.port,
      binary: input.binary,
      next_steps: [
        `This request was blocked by the sandbox network policy "${policy}"; do not retry it unchanged.`,
        `If ${rule} on ${authority} is needed, ask the user to allow it, e.g.: openshell policy update ${input.sandbox} --add-allow ${authority}:${input.method}:${input.path}`,
      ],
    },
  };
}

export function authorityMismatch(detail: string): ProxyResponse {
  return {
    status: 403,
    reason: 'Forbidden',
    body: { error: 'request_authority_mismatch', detail },
  };
}

export function credentialRefused(
  error: 'credential_endpoint_mismatch' | 'credential_unavailable',
  detail: string,
): ProxyResponse {
  return error === 'credential_endpoint_mismatch'
    ? { status: 403, reason: 'Forbidden', body: { error, detail } }
    : { status: 503, reason: 'Service Unavailable', body: { error, detail } };
}

export function badRequest(detail: string, status = 400, reason = 'Bad Request'): ProxyResponse {
  return { status, reason, body: { error: 'bad_request', detail } };
}

export function tunnelLimit(sandbox: string, limit: number): ProxyResponse {
  return {
    status: 503,
    reason: 'Service Unavailable',
    body: {
      error: 'tunnel_limit',
      detail: `sandbox ${sandbox} has ${limit} open tunnels, the limit; close some and retry`,
    },
  };
}

export function upstreamFailed(detail: string, status = 502): ProxyResponse {
  return {
    status,
    reason: status === 504 ? 'Gateway Timeout' : 'Bad Gateway',
    body: { error: 'upstream_failed', detail },
  };
}

export function bodyTooLarge(limit: number): ProxyResponse {
  return {
    status: 413,
    reason: 'Content Too Large',
    body: {
      error: 'body_too_large',
      detail: `request bodies are rewritten for credentials only up to ${limit} bytes on this endpoint`,
    },
  };
}

/** Serialises a proxy response for a raw socket (CONNECT replies, parse errors). Always closes. */
export function toRawResponse(response: ProxyResponse): string {
  const body = JSON.stringify(response.body);
  const extra = Object.entries(response.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${response.status} ${response.reason}\r\n` +
    `Content-Type: application/json\r\n${extra}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}
