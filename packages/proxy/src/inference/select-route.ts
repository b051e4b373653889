import type { InferencePolicy } from '@openshell/policy-schema';
import type { CompiledRoute, InferenceApiShape, RouteTable } from './inference-routes.js';
import type { SensitivityVerdict } from './sensitivity.js';

export interface RouteRequest {
  readonly shape: InferenceApiShape;
  /** The `model` the caller named, or null. */
  readonly model: string | null;
  readonly verdict: SensitivityVerdict;
}

export type RouteChoice =
  | {
      readonly ok: true;
      readonly route: CompiledRoute;
      /** The model sent upstream. */
      readonly model: string;
      /** The keep_local rule that moved the request off a frontier route, if any. */
      readonly keptLocalBy: string | null;
    }
  | {
      readonly ok: false;
      readonly status: 400 | 403 | 503;
      readonly error: 'inference_refused' | 'no_compatible_route' | 'inference_route_unavailable';
      readonly detail: string;
      /** The sensitivity rule behind a refusal (its name only, never what matched). */
      readonly rule: string | null;
      readonly route: string | null;
    };

interface Candidate {
  readonly route: CompiledRoute;
  /** Local only when both the policy and the route configuration say so. */
  readonly local: boolean;
  readonly models: readonly string[];
}

/**
 * The routes this sandbox may use, in policy order, joined with their configuration.
 * A route counts as local only when the policy AND the operator's route config both say
 * local: a mislabelled frontier route must never receive what a rule keeps local.
 */
function candidatesOf(policy: InferencePolicy, routes: RouteTable): Map<string, Candidate> {
  const out = new Map<string, Candidate>();
  for (const [name, permission] of Object.entries(policy.routes)) {
    const route = routes.get(name);
    if (!route) continue;
    out.set(name, {
      route,
      local: permission.kind === 'local' && route.kind === 'local',
      models: permission.models,
    });
  }
  return out;
}

function modelFor(candidate: Candidate, requested: string | null): string {
  // The caller may pick a model the policy lists for the route (or the route's own);
  // anything else is replaced by the route's configured model.
  if (
    requested !== null &&
    (candidate.models.includes(requested) || requested === candidate.route.model)
  )
    return requested;
  return candidate.route.model;
}

/**
 * Picks the route for one inference request: a named model listed on an allowed,
 * shape-compatible route goes there; everything else goes to default_route. Then the
 * sensitivity verdict: `refuse` refuses; `keep_local` moves a request bound for a frontier
 * route to default_route if it is local, else to the first local route of this shape,
 * else refuses. A frontier route therefore only ever receives content that passed every rule.
 */
export function selectRoute(
  policy: InferencePolicy,
  routes: RouteTable,
  request: RouteRequest,
): RouteChoice {
  const { verdict, shape } = request;
  if (verdict.action === 'refuse') {
    return {
      ok: false,
      status: 403,
      error: 'inference_refused',
      detail: `request content matched sensitivity rule "${verdict.rule}", which refuses it; remove the sensitive content and retry`,
      rule: verdict.rule,
      route: null,
    };
  }
  const candidates = candidatesOf(policy, routes);
  const compatible = [...candidates.values()].filter((c) => c.route.api === shape);
  let chosen =
    request.model === null
      ? undefined
      : compatible.find(
          (c) => c.models.includes(request.model ?? '') || c.route.model === request.model,
        );
  if (!chosen) {
    const fallback = candidates.get(policy.default_route);
    if (!fallback) {
      return {
        ok: false,
        status: 503,
        error: 'inference_route_unavailable',
        detail: `default inference route "${policy.default_route}" is not configured on this proxy; configure it with openshell inference set`,
        rule: null,
        route: policy.default_route,
      };
    }
    if (fallback.route.api !== shape) {
      return {
        ok: false,
        status: 400,
        error: 'no_compatible_route',
        detail: `no compatible inference route for this ${shape} request: default route "${fallback.route.name}" speaks the ${fallback.route.api} API${compatible.length > 0 ? ` and the model named is on none of ${compatible.map((c) => `"${c.route.name}"`).join(', ')}` : ''}`,
        rule: null,
        route: fallback.route.name,
      };
    }
    chosen = fallback;
  }
  if (verdict.action === 'keep_local' && !chosen.local) {
    const defaultRoute = candidates.get(policy.default_route);
    const local =
      defaultRoute?.local && defaultRoute.route.api === shape
        ? defaultRoute
        : compatible.find((c) => c.local);
    if (!local) {
      return {
        ok: false,
        status: 403,
        error: 'inference_refused',
        detail: `request content matched sensitivity rule "${verdict.rule}", which keeps it on a local route, and no local ${shape} route is available to this sandbox`,
        rule: verdict.rule,
        route: chosen.route.name,
      };
    }
    return {
      ok: true,
      route: local.route,
      model: modelFor(local, request.model),
      keptLocalBy: verdict.rule,
    };
  }
  return {
    ok: true,
    route: chosen.route,
    model: modelFor(chosen, request.model),
    keptLocalBy: null,
  };
}
