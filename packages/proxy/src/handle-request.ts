import {
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { rewriteText } from './credentials/rewrite-placeholders.js';
import { bodyTooLarge, credentialRefused, upstreamFailed } from './http/denial-bodies.js';
import { toForwardHeaders } from './http/forward-headers.js';
import { readBody } from './http/read-body.js';
import { sendProxyResponse } from './http/send-proxy-response.js';
import { parseAbsoluteTarget } from './http/request-target.js';
import { evaluateRequest, type RequestPlan } from './evaluate-request.js';
import { INFERENCE_HOST, handleInferenceRequest } from './inference/handle-inference.js';
import { POLICY_CHECK_HOST, handlePolicyCheck } from './policy-check/handle-policy-check.js';
import type { ProxyContext } from './proxy-context.js';

/**
 * Handles one HTTP request (forward-form on the listener, or inside an intercepted
 * tunnel): decide, then stream it upstream and the response back. Bodies are streamed
 * with back-pressure, except when the endpoint opted in to credential rewriting in bodies.
 */
export function handleRequest(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  serveRequest(ctx, req, res).catch((error: unknown) => {
    // Fail closed: an internal error answers 502 (or drops the stream), it never forwards.
    ctx.warn(`request ${req.method ?? ''} failed internally: ${String(error)}`);
    if (!res.headersSent) sendProxyResponse(res, upstreamFailed('internal proxy error', 502));
    else res.destroy();
  });
}

async function serveRequest(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!ctx.intercepted.has(req.socket)) {
    const absolute = parseAbsoluteTarget(req.url ?? '');
    if (absolute.ok && absolute.authority.host === INFERENCE_HOST) {
      // Forward-form http://inference.local/… is the router's too, never a dial.
      const client = ctx.clients.get(req.socket);
      handleInferenceRequest(
        ctx,
        req,
        res,
        {
          sandboxId: client?.sandboxId,
          caller: client?.caller ?? Promise.resolve(null),
          port: absolute.authority.port,
        },
        absolute.target,
      );
      return;
    }
    if (absolute.ok && absolute.authority.host === POLICY_CHECK_HOST) {
      // Forward-form http://policy.local/… is answered by the proxy, never dialled.
      const client = ctx.clients.get(req.socket);
      handlePolicyCheck(
        ctx,
        req,
        res,
        {
          sandboxId: client?.sandboxId,
          caller: client?.caller ?? Promise.resolve(null),
          port: absolute.authority.port,
        },
        absolute.target,
      );
      return;
    }
  }
  const evaluation = await evaluateRequest(ctx, req, false);
  if (!evaluation.ok) {
    sendProxyResponse(res, evaluation.response);
    return;
  }
  const plan = evaluation.plan;
  if (!plan.bodyRewrite) {
    const upstream = openUpstream(ctx, plan, plan.headers, res);
    req.pipe(upstream);
    return;
  }
  const body = await readBody(req, ctx.limits.maxBodyRewriteBytes);
  if (body === null) {
    sendProxyResponse(res, bodyTooLarge(ctx.limits.maxBodyRewriteBytes));
    return;
  }
  // latin1 keeps every byte as one character, so a binary body survives the round trip.
  const rewritten = rewriteText(
    body.toString('latin1'),
    plan.host,
    plan.sandbox.credentials,
    (secret) => Buffer.from(secret, 'utf8').toString('latin1'),
  );
  if (!rewritten.ok) {
    ctx.recorder.record({
      sandboxId: plan.sandbox.id,
      policyVersion: plan.sandbox.version,
      caller: plan.caller,
      host: plan.host,
      port: plan.port,
      method: plan.method,
      target: plan.target,
      action: 'deny',
      outcome: rewritten.error,
      layer: 'l7',
      reason: `request body: ${rewritten.detail}`,
    });
    sendProxyResponse(res, credentialRefused(rewritten.error, rewritten.detail));
    return;
  }
  const out = Buffer.from(rewritten.value, 'latin1');
  const headers = plan.headers.filter((_, i, all) => {
    const name = (i % 2 === 0 ? all[i] : all[i - 1])?.toLowerCase();
    return name !== 'content-length' && name !== 'transfer-encoding';
  });
  const upstream = openUpstream(ctx, plan, [...headers, 'Content-Length', String(out.length)], res);
  upstream.end(out);
}

function openUpstream(
  ctx: ProxyContext,
  plan: RequestPlan,
  headers: string[],
  res: ServerResponse,
): ClientRequest {
  const first = plan.upstream.kind === 'forward' ? plan.upstream.targets[0] : undefined;
  const upstream = httpRequest({
    method: plan.method,
    path: plan.target,
    headers,
    setHost: false,
    agent:
      plan.upstream.kind === 'tunnel'
        ? plan.upstream.conn.agent
        : first
          ? ctx.forwardAgent
          : ctx.forwardByNameAgent,
    host: first?.address ?? plan.host,
    port: first?.port ?? plan.port,
    ...(first ? { family: first.family } : {}),
  });
  upstream.setTimeout(ctx.limits.idleTimeoutMs, () =>
    upstream.destroy(new Error('upstream idle timeout')),
  );
  upstream.on('response', (response) => {
    res.sendDate = false;
    res.writeHead(
      response.statusCode ?? 502,
      response.statusMessage,
      toForwardHeaders(response.rawHeaders, { host: null, upgrade: false, chunked: false }),
    );
    response.pipe(res);
    response.once('error', () => res.destroy());
  });
  upstream.on('error', (error) => {
    ctx.metrics.inc('openshell_proxy_upstream_errors_total');
    if (!res.headersSent)
      sendProxyResponse(
        res,
        upstreamFailed(`upstream ${plan.host}:${plan.port}: ${error.message}`),
      );
    else res.destroy();
  });
  // The client went away mid-exchange: stop the upstream work too.
  res.once('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  return upstream;
}
