import type { IncomingMessage } from 'node:http';
import { decide, type Decision } from '@openshell/policy-schema';
import type { CallerIdentity } from './caller/caller-resolver.js';
import { rewriteRequest } from './credentials/rewrite-placeholders.js';
import type { DecisionInput } from './events/decision-recorder.js';
import { redactTarget } from './events/decision-event.js';
import {
  authorityMismatch,
  badRequest,
  credentialRefused,
  l4Denied,
  l7Denied,
  ssrfDenied,
  upstreamFailed,
  type ProxyResponse,
} from './http/denial-bodies.js';
import { headerValue, isChunked, toForwardHeaders } from './http/forward-headers.js';
import { formatAuthority, parseAbsoluteTarget, parseAuthority } from './http/request-target.js';
import { INFERENCE_HOST } from './inference/handle-inference.js';
import { POLICY_CHECK_HOST } from './policy-check/handle-policy-check.js';
import type { InterceptedConnection, ProxyContext } from './proxy-context.js';
import type { SandboxState } from './sandbox/sandbox-registry.js';
import { resolveDestination, type DialTarget } from './ssrf/resolve-destination.js';

/** Everything needed to send an admitted request upstream. */
export interface RequestPlan {
  readonly sandbox: SandboxState;
  readonly caller: CallerIdentity;
  readonly host: string;
  readonly port: number;
  readonly method: string;
  /** Origin-form target, placeholders replaced. */
  readonly target: string;
  /** Raw header pairs for the upstream, hop-by-hop removed, placeholders replaced. */
  readonly headers: string[];
  /** The endpoint opted in to credential rewriting in the body (the body is then buffered). */
  readonly bodyRewrite: boolean;
  readonly upstream:
    | { readonly kind: 'forward'; readonly targets: readonly DialTarget[] }
    | { readonly kind: 'tunnel'; readonly conn: InterceptedConnection };
}

export type Evaluation =
  | { readonly ok: true; readonly plan: RequestPlan }
  | { readonly ok: false; readonly response: ProxyResponse };

interface Scope {
  readonly sandboxId: string | undefined;
  readonly caller: CallerIdentity | null;
  readonly host: string;
  readonly port: number;
  readonly target: string;
  readonly conn: InterceptedConnection | null;
}

const refuse = (response: ProxyResponse): Evaluation => ({ ok: false, response });

/** Inside a tunnel every request must address the CONNECT target, by SNI, Host and URL. */
function scopeInTunnel(conn: InterceptedConnection, req: IncomingMessage): Scope | ProxyResponse {
  const authority = formatAuthority(conn.host, conn.port);
  if (conn.sniMismatch !== null) {
    return authorityMismatch(
      `TLS server name ${JSON.stringify(conn.sniMismatch)} does not match the CONNECT target ${authority}`,
    );
  }
  let target = req.url ?? '';
  if (/^https?:\/\//i.test(target)) {
    const absolute = parseAbsoluteTarget(target.replace(/^https:/i, 'http:'));
    if (!absolute.ok) return badRequest(absolute.detail);
    if (absolute.authority.host !== conn.host) {
      return authorityMismatch(
        `request URL host ${absolute.authority.host} does not match the CONNECT target ${authority}`,
      );
    }
    target = absolute.target;
  }
  const hostHeader = headerValue(req.rawHeaders, 'host');
  const claimed = hostHeader === undefined ? null : parseAuthority(hostHeader, conn.port);
  if (!claimed || claimed.host !== conn.host || claimed.port !== conn.port) {
    return authorityMismatch(
      `Host ${JSON.stringify(hostHeader ?? '')} does not match the CONNECT target ${authority}`,
    );
  }
  return {
    sandboxId: conn.sandboxId,
    caller: conn.caller,
    host: conn.host,
    port: conn.port,
    target,
    conn,
  };
}

async function scopeForward(
  ctx: ProxyContext,
  req: IncomingMessage,
): Promise<Scope | ProxyResponse> {
  const absolute = parseAbsoluteTarget(req.url ?? '');
  if (!absolute.ok) return badRequest(absolute.detail);
  const client = ctx.clients.get(req.socket);
  return {
    sandboxId: client?.sandboxId,
    caller: client ? await client.caller : null,
    host: absolute.authority.host,
    port: absolute.authority.port,
    target: absolute.target,
    conn: null,
  };
}

/**
 * Decides one HTTP request (forward-form, or inside an intercepted tunnel) against the
 * sandbox's policy as it is NOW, so a reload applies to the next request on a kept-alive
 * connection. Order: authority → sandbox and caller → L4 → (forward-form) SSRF → L7 →
 * credential placeholders. Every outcome is recorded once.
 */
export async function evaluateRequest(
  ctx: ProxyContext,
  req: IncomingMessage,
  upgrade: boolean,
): Promise<Evaluation> {
  const method = req.method ?? '';
  const conn = ctx.intercepted.get(req.socket) ?? null;
  const scoped = conn ? scopeInTunnel(conn, req) : await scopeForward(ctx, req);
  if (!('target' in scoped)) {
    if (scoped.status === 400) ctx.metrics.inc('openshell_proxy_bad_requests_total');
    else if (conn) {
      ctx.recorder.record({
        sandboxId: conn.sandboxId,
        policyVersion: ctx.registry.get(conn.sandboxId)?.version ?? null,
        caller: conn.caller,
        host: conn.host,
        port: conn.port,
        method,
        target: req.url ?? '',
        action: 'deny',
        outcome: 'request_authority_mismatch',
        layer: 'l7',
        reason: String(scoped.body['detail']),
      });
    }
    return refuse(scoped);
  }
  const { host, port, target, caller } = scoped;
  if (host === INFERENCE_HOST || host === POLICY_CHECK_HOST) {
    // Only an Upgrade gets here (plain requests are served by the proxy itself): these
    // names are never dialled, and they speak no WebSocket.
    return refuse(l4Denied(method, host, port));
  }
  const sandbox = scoped.sandboxId === undefined ? undefined : ctx.registry.get(scoped.sandboxId);
  const record = (
    input: Omit<
      DecisionInput,
      'host' | 'port' | 'method' | 'target' | 'sandboxId' | 'policyVersion' | 'caller'
    >,
  ): void => {
    ctx.recorder.record({
      sandboxId: scoped.sandboxId ?? null,
      policyVersion: sandbox?.version ?? null,
      caller,
      host,
      port,
      method,
      target,
      ...input,
    });
  };
  if (!sandbox) {
    record({
      action: 'deny',
      outcome: 'sandbox_unknown',
      reason: 'no sandbox (or no policy) for this source address',
    });
    return refuse(l4Denied(method, host, port));
  }
  if (!caller) {
    record({
      action: 'deny',
      outcome: 'identity_unknown',
      reason: 'the calling process could not be identified',
    });
    return refuse(l4Denied(method, host, port));
  }
  const who = { binary: caller.exe, ancestors: caller.ancestors };
  const l4 = decide(sandbox.compiled, { host, port, ...who });
  if (l4.action === 'deny') {
    record({ decision: l4, action: 'deny', outcome: 'policy_denied' });
    return refuse(l4Denied(method, host, port));
  }
  let targets: readonly DialTarget[] = [];
  if (!scoped.conn) {
    const destination = await resolveDestination(
      host,
      port,
      (l4.endpoints ?? []).flatMap((e) => e.allowed_ips),
      ctx.destinations,
    );
    if (!destination.ok) {
      record({
        decision: l4,
        action: 'deny',
        outcome: destination.kind === 'ssrf' ? 'ssrf_denied' : 'policy_denied',
        reason: destination.reason,
      });
      return refuse(
        destination.kind === 'ssrf'
          ? ssrfDenied(method, host, port)
          : upstreamFailed(destination.reason),
      );
    }
    targets = destination.targets;
  }
  let decision: Decision = l4;
  if (l4.inspect) {
    decision = decide(sandbox.compiled, { host, port, ...who, method, target });
    if (decision.action === 'deny') {
      record({ decision, action: 'deny', outcome: 'policy_denied' });
      return refuse(
        l7Denied({
          policyName: decision.policyName ?? l4.policyName,
          method: method.toUpperCase(),
          path: decision.canonicalPath ?? redactTarget(target),
          host,
          port,
          binary: caller.exe,
          sandbox: sandbox.id,
        }),
      );
    }
  }
  // Placeholders are resolved only against the host this request really reaches (the
  // CONNECT target or the URL authority), never against a Host header the client chose.
  const rewritten = rewriteRequest(req.rawHeaders, target, host, sandbox.credentials);
  if (!rewritten.ok) {
    record({ decision, action: 'deny', outcome: rewritten.error, reason: rewritten.detail });
    return refuse(credentialRefused(rewritten.error, rewritten.detail));
  }
  record({ decision, action: decision.action, outcome: 'allowed' });
  const hostHeader = scoped.conn
    ? null
    : port === 80
      ? host.includes(':')
        ? `[${host}]`
        : host
      : formatAuthority(host, port);
  return {
    ok: true,
    plan: {
      sandbox,
      caller,
      host,
      port,
      method,
      target: rewritten.value.target,
      headers: toForwardHeaders(rewritten.value.headers, {
        host: hostHeader,
        upgrade,
        chunked: isChunked(req.rawHeaders),
      }),
      bodyRewrite: (decision.endpoints ?? []).some((e) => e.request_body_credential_rewrite),
      upstream: scoped.conn ? { kind: 'tunnel', conn: scoped.conn } : { kind: 'forward', targets },
    },
  };
}
