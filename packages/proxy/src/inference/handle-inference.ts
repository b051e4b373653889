import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { CallerIdentity } from '../caller/caller-resolver.js';
import type { DecisionInput } from '../events/decision-recorder.js';
import { authorityMismatch, l4Denied, upstreamFailed } from '../http/denial-bodies.js';
import { toForwardHeaders } from '../http/forward-headers.js';
import { readBody } from '../http/read-body.js';
import { parseAbsoluteTarget } from '../http/request-target.js';
import { sendProxyResponse } from '../http/send-proxy-response.js';
import type { ProxyContext } from '../proxy-context.js';
import { classifyInferenceRequest, toRouteHeaders } from './api-shapes.js';
import {
  inferenceBadRequest,
  inferenceNotEnabled,
  inferencePathDenied,
  inferenceRouteRefused,
} from './inference-responses.js';
import { toUpstreamPath, type CompiledRoute } from './inference-routes.js';
import { selectRoute } from './select-route.js';
import { toScannableText, type SensitivityVerdict } from './sensitivity.js';

/** The name sandboxes use for the router; never resolved, never dialled. */
export const INFERENCE_HOST = 'inference.local';

/** Who sent an inference request: the sandbox (by source address) and, if known, the binary. */
export interface InferenceClient {
  readonly sandboxId: string | undefined;
  readonly caller: Promise<CallerIdentity | null>;
  /** 443 inside a CONNECT tunnel, 80 for forward-form `http://inference.local/…`. */
  readonly port: number;
}

/**
 * Serves one request to inference.local: recognise the API shape, apply the sandbox's
 * inference policy (routes and sensitivity rules), strip the caller's credentials, and
 * forward to the chosen route with its own key and model, streaming the answer back.
 * `target` is the origin-form request target.
 */
export function handleInferenceRequest(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  client: InferenceClient,
  target: string,
): void {
  serveInference(ctx, req, res, client, target).catch((error: unknown) => {
    // Fail closed: nothing is forwarded after an internal error.
    ctx.warn(`inference request ${req.method ?? ''} failed internally: ${String(error)}`);
    if (!res.headersSent) sendProxyResponse(res, upstreamFailed('internal proxy error', 502));
    else res.destroy();
  });
}

/**
 * The inference server's request listener (requests inside an inference.local tunnel).
 * An absolute-form target must name inference.local too: the router serves no other host.
 */
export function serveInferenceServerRequest(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const client = ctx.inferenceClients.get(req.socket);
  let target = req.url ?? '';
  if (/^https?:\/\//i.test(target)) {
    const absolute = parseAbsoluteTarget(target.replace(/^https:/i, 'http:'));
    target = absolute.ok && absolute.authority.host === INFERENCE_HOST ? absolute.target : '';
  }
  if (!client || !target.startsWith('/')) {
    req.resume();
    sendProxyResponse(
      res,
      authorityMismatch(`inference.local serves only origin-form requests for ${INFERENCE_HOST}`),
    );
    return;
  }
  handleInferenceRequest(ctx, req, res, client, target);
}

function parseJsonObject(raw: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    // Not JSON (or nested beyond the parser's stack): the caller gets a 400.
    return null;
  }
}

async function serveInference(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  client: InferenceClient,
  target: string,
): Promise<void> {
  const method = req.method ?? '';
  const caller = await client.caller;
  const sandbox = client.sandboxId === undefined ? undefined : ctx.registry.get(client.sandboxId);
  const path = target.split('?', 1)[0] ?? target;
  const record = (
    input: Pick<DecisionInput, 'action' | 'outcome' | 'reason' | 'route' | 'rule'>,
  ): void => {
    ctx.recorder.record({
      sandboxId: client.sandboxId ?? null,
      policyVersion: sandbox?.version ?? null,
      caller,
      host: INFERENCE_HOST,
      port: client.port,
      method,
      target,
      layer: 'l7',
      ...input,
    });
  };
  const refuse = (
    response: Parameters<typeof sendProxyResponse>[1],
    input: Parameters<typeof record>[0],
  ): void => {
    record(input);
    // The body is not needed; drain it so the kept-alive connection stays usable.
    req.resume();
    sendProxyResponse(res, response);
  };
  if (!sandbox) {
    refuse(l4Denied(method, INFERENCE_HOST, client.port), {
      action: 'deny',
      outcome: 'sandbox_unknown',
      reason: 'no sandbox (or no policy) for this source address',
    });
    return;
  }
  if (client.port !== 443 && client.port !== 80) {
    refuse(l4Denied(method, INFERENCE_HOST, client.port), {
      action: 'deny',
      outcome: 'inference_path_denied',
      reason: `${INFERENCE_HOST} is served on ports 443 and 80 only`,
    });
    return;
  }
  const endpoint = classifyInferenceRequest(method, path);
  if (!endpoint) {
    refuse(inferencePathDenied(method.toUpperCase(), path), {
      action: 'deny',
      outcome: 'inference_path_denied',
      reason: 'not an inference API request shape',
    });
    return;
  }
  const policy = sandbox.policy.inference;
  if (!policy) {
    refuse(inferenceNotEnabled(sandbox.id), {
      action: 'deny',
      outcome: 'inference_not_enabled',
      reason: 'the policy has no inference section',
    });
    return;
  }
  let body: Record<string, unknown> | null = null;
  if (endpoint.hasBody) {
    const limit = ctx.limits.maxInferenceBodyBytes;
    const raw = await readBody(req, limit);
    body = raw === null ? null : parseJsonObject(raw);
    if (body === null) {
      const bad =
        raw === null
          ? inferenceBadRequest(
              `request bodies to inference.local are limited to ${limit} bytes`,
              413,
            )
          : inferenceBadRequest('the request body must be a JSON object');
      refuse(bad, {
        action: 'deny',
        outcome: 'inference_bad_request',
        reason: String(bad.body['detail']),
      });
      return;
    }
  } else {
    req.resume();
  }
  const model = typeof body?.['model'] === 'string' ? body['model'] : null;
  const verdict: SensitivityVerdict = body
    ? ctx.inference.sensitivityFor(policy).scan(toScannableText(body))
    : { action: 'pass' };
  const matched = verdict.action === 'pass' ? {} : { rule: verdict.rule };
  const why =
    verdict.action === 'pass' ? '' : ` (rule ${verdict.rule}: ${verdict.detector} detected)`;
  const choice = selectRoute(policy, ctx.inference.routes(), {
    shape: endpoint.shape,
    model,
    verdict,
  });
  if (!choice.ok) {
    refuse(inferenceRouteRefused(choice), {
      action: 'deny',
      outcome: choice.error,
      reason: `${choice.error}${why}`,
      ...matched,
      ...(choice.route === null ? {} : { route: choice.route }),
    });
    return;
  }
  const out = body ? Buffer.from(JSON.stringify({ ...body, model: choice.model })) : null;
  record({
    action: 'allow',
    outcome: choice.keptLocalBy === null ? 'inference_routed' : 'inference_kept_local',
    reason: `routed to ${choice.route.kind} route ${choice.route.name}${why}`,
    route: choice.route.name,
    ...matched,
  });
  forwardToRoute(ctx, res, {
    route: choice.route,
    method,
    target,
    headers: toRouteHeaders(choice.route, req.rawHeaders, out?.length ?? null),
    body: out,
  });
}

interface RouteRequest {
  readonly route: CompiledRoute;
  readonly method: string;
  readonly target: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | null;
}

/** Sends the rewritten request to the route and relays the answer as it arrives (SSE included). */
function forwardToRoute(ctx: ProxyContext, res: ServerResponse, r: RouteRequest): void {
  const https = r.route.protocol === 'https:';
  const options = {
    host: r.route.hostname,
    port: r.route.port,
    method: r.method,
    path: toUpstreamPath(r.route, r.target),
    headers: r.headers,
  };
  const upstream = https
    ? httpsRequest({ ...options, agent: ctx.inference.httpsAgent })
    : httpRequest({ ...options, agent: ctx.inference.httpAgent });
  upstream.setTimeout(ctx.limits.idleTimeoutMs, () =>
    upstream.destroy(new Error('inference route idle timeout')),
  );
  upstream.on('response', (response) => {
    res.sendDate = false;
    res.writeHead(
      response.statusCode ?? 502,
      response.statusMessage,
      toForwardHeaders(response.rawHeaders, { host: null, upgrade: false, chunked: false }),
    );
    // Piped chunk by chunk: each server-sent event reaches the sandbox as the route emits it.
    response.pipe(res);
    response.once('error', () => res.destroy());
  });
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    ctx.metrics.inc('openshell_proxy_upstream_errors_total');
    // The route's address is operator configuration: the sandbox gets the route name and
    // the error code, the operator's log gets the whole message.
    ctx.warn(`inference route ${r.route.name} failed: ${error.message}`);
    if (!res.headersSent) {
      sendProxyResponse(
        res,
        upstreamFailed(`inference route ${r.route.name} failed (${error.code ?? 'error'})`),
      );
    } else res.destroy();
  });
  res.once('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  upstream.end(r.body ?? undefined);
}
