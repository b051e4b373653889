import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { decide } from '@openshell/policy-schema';
import type { CallerIdentity } from './caller/caller-resolver.js';
import type { DecisionInput } from './events/decision-recorder.js';
import {
  badRequest,
  l4Denied,
  ssrfDenied,
  toRawResponse,
  tunnelLimit,
  upstreamFailed,
  type ProxyResponse,
} from './http/denial-bodies.js';
import { parseAuthority } from './http/request-target.js';
import { INFERENCE_HOST } from './inference/handle-inference.js';
import { serveInferenceTunnel } from './inference/serve-inference-tunnel.js';
import {
  POLICY_CHECK_HOST,
  policyCheckConnectRefused,
} from './policy-check/handle-policy-check.js';
import { interceptTunnel } from './intercept-tunnel.js';
import type { ProxyContext } from './proxy-context.js';
import { relayRawTunnel } from './relay-raw-tunnel.js';
import { resolveDestination } from './ssrf/resolve-destination.js';

function refuse(socket: Duplex, response: ProxyResponse): void {
  if (!socket.destroyed) socket.end(toRawResponse(response));
}

/**
 * The CONNECT pipeline: parse → sandbox by source address → caller binary → decide (L4)
 * → resolve and SSRF-check → tunnel cap → then either an opaque relay or an intercepted
 * tunnel (TLS terminated / HTTP parsed) when the policy needs L7 or credentials are bound.
 */
export function handleConnect(
  ctx: ProxyContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  runConnect(ctx, req, socket as Socket, head).catch((error: unknown) => {
    // Fail closed: an unexpected error in the pipeline drops the connection, never relays it.
    ctx.warn(`CONNECT ${JSON.stringify(req.url)} failed internally: ${String(error)}`);
    socket.destroy();
  });
}

async function runConnect(
  ctx: ProxyContext,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
): Promise<void> {
  socket.setNoDelay(true);
  // A client reset is not a proxy error; 'close' does the cleanup.
  socket.on('error', () => socket.destroy());
  const authority = parseAuthority(req.url ?? '');
  if (!authority) {
    ctx.metrics.inc('openshell_proxy_bad_requests_total');
    refuse(
      socket,
      badRequest('CONNECT needs an authority-form target: host:port (IPv6 as [addr]:port)'),
    );
    return;
  }
  const { host, port } = authority;
  const client = ctx.clients.get(socket);
  const base = { host, port, method: 'CONNECT' };
  const record = (input: Omit<DecisionInput, 'host' | 'port' | 'method'>): void => {
    ctx.recorder.record({ ...base, ...input });
  };

  if (client?.sandboxId === undefined || !ctx.registry.get(client.sandboxId)) {
    record({
      sandboxId: client?.sandboxId ?? null,
      policyVersion: null,
      caller: null,
      action: 'deny',
      outcome: 'sandbox_unknown',
      reason: `no sandbox (or no policy) for source address ${socket.remoteAddress ?? '?'}`,
    });
    refuse(socket, l4Denied('CONNECT', host, port));
    return;
  }
  const sandboxId = client.sandboxId;
  const caller = await client.caller;
  // Re-read after the await: a reload meanwhile must decide this connection.
  const sandbox = ctx.registry.get(sandboxId);
  if (!sandbox) {
    record({
      sandboxId,
      policyVersion: null,
      caller,
      action: 'deny',
      outcome: 'sandbox_unknown',
      reason: `sandbox ${sandboxId} was removed`,
    });
    refuse(socket, l4Denied('CONNECT', host, port));
    return;
  }
  const versioned = { sandboxId, policyVersion: sandbox.version };
  if (host === INFERENCE_HOST) {
    // Served by the proxy, never dialled, whatever network_policies say; the inference
    // section decides each request inside. No caller identity is needed for that.
    connectInference(ctx, socket, head, { sandboxId, caller, port }, record);
    return;
  }
  if (host === POLICY_CHECK_HOST) {
    // The check is plain HTTP only; a tunnel to it would be dialled or left unanswered.
    record({
      ...versioned,
      caller,
      action: 'deny',
      outcome: 'policy_check_refused',
      reason: `${POLICY_CHECK_HOST} is served as plain HTTP only`,
    });
    refuse(socket, policyCheckConnectRefused(port));
    return;
  }
  if (!caller) {
    record({
      ...versioned,
      caller: null,
      action: 'deny',
      outcome: 'identity_unknown',
      reason: 'the calling process could not be identified (unknown or ambiguous socket owner)',
    });
    refuse(socket, l4Denied('CONNECT', host, port));
    return;
  }
  const decision = decide(sandbox.compiled, {
    host,
    port,
    binary: caller.exe,
    ancestors: caller.ancestors,
  });
  if (decision.action === 'deny') {
    record({ ...versioned, caller, decision, action: 'deny', outcome: 'policy_denied' });
    refuse(socket, l4Denied('CONNECT', host, port));
    return;
  }
  const endpoints = decision.endpoints ?? [];
  const destination = await resolveDestination(
    host,
    port,
    endpoints.flatMap((e) => e.allowed_ips),
    ctx.destinations,
  );
  if (!destination.ok) {
    record({
      ...versioned,
      caller,
      decision,
      action: 'deny',
      outcome: destination.kind === 'ssrf' ? 'ssrf_denied' : 'policy_denied',
      reason: destination.reason,
    });
    if (destination.kind === 'dns') ctx.metrics.inc('openshell_proxy_upstream_errors_total');
    refuse(
      socket,
      destination.kind === 'ssrf'
        ? ssrfDenied('CONNECT', host, port)
        : upstreamFailed(destination.reason),
    );
    return;
  }
  if (socket.destroyed) return;
  // Checked after the awaits and right before registering, so concurrent CONNECTs cannot overshoot.
  if (ctx.tunnels.count(sandboxId) >= ctx.limits.maxTunnelsPerSandbox) {
    record({
      ...versioned,
      caller,
      decision,
      action: 'deny',
      outcome: 'tunnel_limit',
      reason: `sandbox ${sandboxId} reached ${ctx.limits.maxTunnelsPerSandbox} concurrent tunnels`,
    });
    refuse(socket, tunnelLimit(sandboxId, ctx.limits.maxTunnelsPerSandbox));
    return;
  }
  const recordAllowed = (): void =>
    record({
      ...versioned,
      caller,
      decision,
      action: decision.action,
      outcome: 'allowed',
      reason: destination.overridden
        ? `${decision.reason} (operator resolve override)`
        : decision.reason,
    });
  const tlsSkip = endpoints.some((e) => e.tls === 'skip');
  const tunnel = { sandboxId, host, port, caller, targets: destination.targets };
  // The allowed event is built and sent after the client has its answer: its cost (the
  // event, the log line, the listeners) stays off the path to the 200. Decided it was
  // before any dial; only the recording moves.
  if (!tlsSkip && (decision.inspect || sandbox.credentials.hasBindingFor(host))) {
    interceptTunnel(ctx, socket, head, { ...tunnel, requireL7: decision.inspect });
    recordAllowed();
  } else {
    relayRawTunnel(ctx, socket, head, tunnel, recordAllowed);
  }
}

/** CONNECT inference.local: 443 (TLS) or 80 (plain), counted against the tunnel cap. */
function connectInference(
  ctx: ProxyContext,
  socket: Socket,
  head: Buffer,
  t: { sandboxId: string; caller: CallerIdentity | null; port: number },
  record: (input: Omit<DecisionInput, 'host' | 'port' | 'method'>) => void,
): void {
  const versioned = {
    sandboxId: t.sandboxId,
    policyVersion: ctx.registry.get(t.sandboxId)?.version ?? null,
    caller: t.caller,
  };
  if (t.port !== 443 && t.port !== 80) {
    record({
      ...versioned,
      action: 'deny',
      outcome: 'inference_path_denied',
      reason: `${INFERENCE_HOST} is served on ports 443 and 80 only`,
    });
    refuse(socket, l4Denied('CONNECT', INFERENCE_HOST, t.port));
    return;
  }
  if (ctx.tunnels.count(t.sandboxId) >= ctx.limits.maxTunnelsPerSandbox) {
    record({
      ...versioned,
      action: 'deny',
      outcome: 'tunnel_limit',
      reason: `sandbox ${t.sandboxId} reached ${ctx.limits.maxTunnelsPerSandbox} concurrent tunnels`,
    });
    refuse(socket, tunnelLimit(t.sandboxId, ctx.limits.maxTunnelsPerSandbox));
    return;
  }
  serveInferenceTunnel(ctx, socket, head, t);
}
