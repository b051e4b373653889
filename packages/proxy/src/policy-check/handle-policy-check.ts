import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallerIdentity } from '../caller/caller-resolver.js';
import type { DecisionInput } from '../events/decision-recorder.js';
import { l4Denied, upstreamFailed, type ProxyResponse } from '../http/denial-bodies.js';
import { sendProxyResponse } from '../http/send-proxy-response.js';
import type { ProxyContext } from '../proxy-context.js';
import { buildCheckAnswer } from './build-check-answer.js';
import { parseCheckQuery } from './parse-check-query.js';

/** The name sandboxes use for the policy check; never resolved, never dialled. */
export const POLICY_CHECK_HOST = 'policy.local';

const CHECK_PATH = '/v1/check';

/** Who asked: the sandbox (by source address) and the calling process, as for any request. */
export interface PolicyCheckClient {
  readonly sandboxId: string | undefined;
  readonly caller: Promise<CallerIdentity | null>;
  readonly port: number;
}

const NO_STORE = { 'Cache-Control': 'no-store' };

function checkRefused(status: number, reason: string, detail: string, extra = {}): ProxyResponse {
  return {
    status,
    reason,
    headers: NO_STORE,
    body: { error: 'policy_check_refused', detail, ...extra },
  };
}

/** CONNECT policy.local: the check is plain HTTP only (no TLS: nothing secret in it). */
export function policyCheckConnectRefused(port: number): ProxyResponse {
  return {
    ...l4Denied('CONNECT', POLICY_CHECK_HOST, port),
    body: {
      error: 'policy_denied',
      detail: `${POLICY_CHECK_HOST} is served as plain HTTP by the proxy: use http://${POLICY_CHECK_HOST}${CHECK_PATH}?url=…, not https or CONNECT`,
    },
  };
}

/**
 * Serves `GET http://policy.local/v1/check?…`: answers whether the described request
 * would be allowed for this caller and which policy and rule decide, using the same
 * decide() as real requests. It never contacts the target, answers only about the
 * caller's own sandbox, and is recorded as a `policy_check` event so operators see probing.
 */
export function handlePolicyCheck(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  client: PolicyCheckClient,
  target: string,
): void {
  // A body on a check means nothing; drain it so the connection stays usable.
  req.resume();
  servePolicyCheck(ctx, req, res, client, target).catch((error: unknown) => {
    ctx.warn(`policy check failed internally: ${String(error)}`);
    if (!res.headersSent) sendProxyResponse(res, upstreamFailed('internal proxy error', 502));
    else res.destroy();
  });
}

async function servePolicyCheck(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  client: PolicyCheckClient,
  target: string,
): Promise<void> {
  const method = req.method ?? '';
  const caller = await client.caller;
  // Read after the await: the answer must reflect the policy in force now.
  const sandbox = client.sandboxId === undefined ? undefined : ctx.registry.get(client.sandboxId);
  const record = (input: Omit<DecisionInput, 'sandboxId' | 'policyVersion' | 'caller'>): void => {
    ctx.recorder.record({
      sandboxId: client.sandboxId ?? null,
      policyVersion: sandbox?.version ?? null,
      caller,
      ...input,
    });
  };
  const self = { host: POLICY_CHECK_HOST, port: client.port, method, target, layer: 'l7' as const };
  // Same gate as any request: an unknown sandbox or process learns nothing about any policy.
  if (!sandbox || !caller) {
    record({
      ...self,
      action: 'deny',
      outcome: sandbox ? 'identity_unknown' : 'sandbox_unknown',
      reason: sandbox
        ? 'the calling process could not be identified'
        : 'no sandbox (or no policy) for this source address',
    });
    sendProxyResponse(res, l4Denied(method, POLICY_CHECK_HOST, client.port));
    return;
  }
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const refuse = (response: ProxyResponse): void => {
    record({
      ...self,
      action: 'deny',
      outcome: 'policy_check_refused',
      reason: String(response.body['detail']),
    });
    sendProxyResponse(res, response);
  };
  if (path !== CHECK_PATH) {
    refuse(checkRefused(404, 'Not Found', `${POLICY_CHECK_HOST} serves only GET ${CHECK_PATH}`));
    return;
  }
  if (method !== 'GET') {
    refuse({
      ...checkRefused(405, 'Method Not Allowed', `${CHECK_PATH} accepts only GET`),
      headers: { ...NO_STORE, Allow: 'GET' },
    });
    return;
  }
  const parsed = parseCheckQuery(q === -1 ? '' : target.slice(q + 1));
  if (!parsed.ok) {
    refuse(
      checkRefused(400, 'Bad Request', `parameter ${parsed.parameter}: ${parsed.detail}`, {
        parameter: parsed.parameter,
      }),
    );
    return;
  }
  const { answer, decision } = buildCheckAnswer(sandbox.compiled, parsed.query, caller);
  record({
    host: answer.host,
    port: answer.port,
    method: answer.method,
    target: parsed.query.target,
    decision,
    action: decision.action,
    outcome: 'policy_check',
    reason: `policy check (nothing sent) for ${answer.binary}: ${decision.reason}`,
  });
  sendProxyResponse(res, { status: 200, reason: 'OK', headers: NO_STORE, body: { ...answer } });
}
