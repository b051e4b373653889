import { describe, expect, test } from 'vitest';
import type { InferencePolicy } from '@openshell/policy-schema';
import { compileInferenceRoutes } from './inference-routes.js';
import { selectRoute, type RouteRequest } from './select-route.js';

const ROUTES = compileInferenceRoutes([
  { name: 'local', kind: 'local', api: 'openai', baseUrl: 'http://127.0.0.1:1/v1', model: 'llama' },
  { name: 'local2', kind: 'local', api: 'openai', baseUrl: 'http://127.0.0.1:2', model: 'qwen' },
  { name: 'gpt', kind: 'frontier', api: 'openai', baseUrl: 'https://a.example/v1', model: 'gpt-x' },
  {
    name: 'claude',
    kind: 'frontier',
    api: 'anthropic',
    baseUrl: 'https://b.example',
    model: 'c-1',
  },
]);

const policy = (default_route: string, routes: InferencePolicy['routes']): InferencePolicy => ({
  default_route,
  routes,
  sensitivity: [],
});

const BASE = policy('local', {
  local: { kind: 'local', models: [] },
  gpt: { kind: 'frontier', models: ['gpt-big'] },
  claude: { kind: 'frontier', models: ['claude-big'] },
});
const PASS = { action: 'pass' } as const;
const KEEP = { action: 'keep_local', rule: 'secrets', detector: 'x' } as const;

const req = (r: Partial<RouteRequest>): RouteRequest => ({
  shape: 'openai',
  model: null,
  verdict: PASS,
  ...r,
});

describe('selectRoute', () => {
  test.for([
    ['no model → default', BASE, req({}), 'local', 'llama', null],
    [
      'unlisted model → default with its model',
      BASE,
      req({ model: 'gpt-big2' }),
      'local',
      'llama',
      null,
    ],
    [
      'listed model → its route, model kept',
      BASE,
      req({ model: 'gpt-big' }),
      'gpt',
      'gpt-big',
      null,
    ],
    [
      "a route's configured model may be named",
      BASE,
      req({ model: 'gpt-x' }),
      'gpt',
      'gpt-x',
      null,
    ],
    [
      'anthropic shape + listed model',
      BASE,
      req({ shape: 'anthropic', model: 'claude-big' }),
      'claude',
      'claude-big',
      null,
    ],
    [
      'keep_local moves frontier → local default',
      BASE,
      req({ model: 'gpt-big', verdict: KEEP }),
      'local',
      'llama',
      'secrets',
    ],
    ['keep_local on a local route stays put', BASE, req({ verdict: KEEP }), 'local', 'llama', null],
    [
      'keep_local with frontier default → first local route in policy order',
      policy('gpt', {
        gpt: { kind: 'frontier', models: [] },
        local2: { kind: 'local', models: [] },
      }),
      req({ verdict: KEEP }),
      'local2',
      'qwen',
      'secrets',
    ],
    [
      'policy says local but the operator says frontier → not local',
      policy('gpt', { gpt: { kind: 'local', models: [] }, local: { kind: 'local', models: [] } }),
      req({ verdict: KEEP }),
      'local',
      'llama',
      'secrets',
    ],
  ] as const)('%s', ([, p, r, route, model, kept]) => {
    expect(selectRoute(p, ROUTES, r)).toEqual({
      ok: true,
      route: ROUTES.get(route),
      model,
      keptLocalBy: kept,
    });
  });

  test.for([
    [
      'refuse verdict',
      BASE,
      req({ verdict: { action: 'refuse', rule: 'keys', detector: 'x' } }),
      403,
      'inference_refused',
    ],
    [
      'anthropic request, openai default, unlisted model',
      BASE,
      req({ shape: 'anthropic', model: 'c-9' }),
      400,
      'no_compatible_route',
    ],
    ['a listed model on a route of the other shape', BASE, req({ model: 'claude-big' }), 200, null],
    [
      'keep_local with no local route',
      policy('gpt', { gpt: { kind: 'frontier', models: [] } }),
      req({ verdict: KEEP }),
      403,
      'inference_refused',
    ],
    [
      'default route not configured on the proxy',
      policy('ollama', { ollama: { kind: 'local', models: [] } }),
      req({}),
      503,
      'inference_route_unavailable',
    ],
    [
      'a route the policy does not name is never used, even for its model',
      policy('local', { local: { kind: 'local', models: [] } }),
      req({ model: 'gpt-x' }),
      200,
      null,
    ],
  ] as const)('%s → %s', ([, p, r, status, error]) => {
    const choice = selectRoute(p, ROUTES, r);
    if (status === 200) {
      // Positive controls: routed, and to the default (local) route.
      expect(choice).toMatchObject({ ok: true, route: { name: 'local' } });
    } else {
      expect(choice).toMatchObject({ ok: false, status, error });
    }
  });
});
