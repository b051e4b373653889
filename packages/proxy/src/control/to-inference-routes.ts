import {
  InferenceApiShape as WireApiShape,
  InferenceRouteKind,
  type InferenceRouteConfig,
} from '@openshell/proto';
import type { InferenceRoute } from '../inference/inference-routes.js';

function toKind(kind: InferenceRouteKind): string {
  switch (kind) {
    case InferenceRouteKind.INFERENCE_ROUTE_KIND_LOCAL:
      return 'local';
    case InferenceRouteKind.INFERENCE_ROUTE_KIND_FRONTIER:
      return 'frontier';
    case InferenceRouteKind.INFERENCE_ROUTE_KIND_UNSPECIFIED:
    case InferenceRouteKind.UNRECOGNIZED:
      // Passed on as-is so the route compiler refuses the set naming this route; guessing
      // `local` would let a frontier route receive prompts its policy keeps local.
      return 'unspecified';
  }
}

function toApi(api: WireApiShape): string {
  switch (api) {
    case WireApiShape.INFERENCE_API_SHAPE_OPENAI:
      return 'openai';
    case WireApiShape.INFERENCE_API_SHAPE_ANTHROPIC:
      return 'anthropic';
    case WireApiShape.INFERENCE_API_SHAPE_UNSPECIFIED:
    case WireApiShape.UNRECOGNIZED:
      return 'unspecified';
  }
}

/**
 * Translates the gateway's route set for `proxy.setInferenceRoutes`, which validates it.
 * Unknown enum values become values the validator refuses (ERR_USAGE naming the route).
 */
export function toInferenceRoutes(routes: readonly InferenceRouteConfig[]): InferenceRoute[] {
  return routes.map(
    (r) =>
      ({
        name: r.name,
        kind: toKind(r.kind),
        baseUrl: r.baseUrl,
        api: toApi(r.api),
        model: r.model,
        ...(r.apiKey === '' ? {} : { apiKey: r.apiKey }),
      }) as InferenceRoute,
  );
}
