import type { ProxyResponse } from '../http/denial-bodies.js';

/** The request shapes inference.local serves, for the refusal message. */
const SERVED =
  'POST /v1/chat/completions, /v1/completions, /v1/responses, /v1/embeddings, /v1/messages; GET /v1/models';

/** A path or method that is no inference API shape. */
export function inferencePathDenied(method: string, path: string): ProxyResponse {
  return {
    status: 403,
    reason: 'Forbidden',
    body: {
      error: 'inference_path_denied',
      detail: `${method} ${path} is not an inference API; inference.local serves ${SERVED}`,
    },
  };
}

/** The sandbox's policy has no inference section. */
export function inferenceNotEnabled(sandbox: string): ProxyResponse {
  return {
    status: 403,
    reason: 'Forbidden',
    body: {
      error: 'inference_not_enabled',
      detail: `the policy of sandbox ${sandbox} has no inference section, so inference.local refuses every request; add one (inference: { default_route, routes }) with openshell policy set`,
    },
  };
}

/** A body the router cannot judge: not JSON, not an object, or too large to scan. */
export function inferenceBadRequest(detail: string, status = 400): ProxyResponse {
  return {
    status,
    reason: status === 413 ? 'Content Too Large' : 'Bad Request',
    body: { error: 'inference_bad_request', detail },
  };
}

/** A routing refusal from selectRoute (sensitivity refusal, no compatible route, unconfigured route). */
export function inferenceRouteRefused(choice: {
  readonly status: 400 | 403 | 503;
  readonly error: string;
  readonly detail: string;
  readonly rule: string | null;
}): ProxyResponse {
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 503: 'Service Unavailable' }[
    choice.status
  ];
  return {
    status: choice.status,
    reason,
    body: {
      error: choice.error,
      ...(choice.rule === null ? {} : { rule: choice.rule }),
      detail: choice.detail,
    },
  };
}
