import { describe, expect, test } from 'vitest';
import { classifyInferenceRequest, toRouteHeaders } from './api-shapes.js';
import { compileInferenceRoutes, toUpstreamPath, type InferenceRoute } from './inference-routes.js';

const OK: InferenceRoute = {
  name: 'local',
  kind: 'local',
  api: 'openai',
  baseUrl: 'http://127.0.0.1:11434/v1',
  model: 'llama3',
};

describe('compileInferenceRoutes', () => {
  test.for([
    ['http://127.0.0.1:11434/v1', '/v1/chat/completions'],
    ['http://127.0.0.1:11434', '/v1/chat/completions'],
    ['https://gw.example/openai/v1/', '/openai/v1/chat/completions'],
  ] as const)('baseUrl %s → %s', ([baseUrl, path]) => {
    const route = compileInferenceRoutes([{ ...OK, baseUrl }]).get('local');
    expect(route && toUpstreamPath(route, '/v1/chat/completions')).toBe(path);
  });

  test.for([
    ['bad scheme', { ...OK, baseUrl: 'ftp://h/v1' }, 'scheme'],
    ['userinfo in the URL', { ...OK, baseUrl: 'http://u:p@h/v1' }, 'userinfo'],
    ['unknown kind', { ...OK, kind: 'cloud' }, 'kind'],
    ['unknown api', { ...OK, api: 'bedrock' }, 'api'],
    ['empty model', { ...OK, model: ' ' }, 'model'],
    ['bad name', { ...OK, name: 'has space' }, 'name'],
    ['key with a newline', { ...OK, apiKey: 'k\r\nX-Evil: 1' }, 'apiKey'],
  ] as const)('%s → ERR_USAGE', ([, route, fragment]) => {
    expect(() => compileInferenceRoutes([route as InferenceRoute])).toThrow(
      expect.objectContaining({ code: 'ERR_USAGE', message: expect.stringContaining(fragment) }),
    );
  });

  test('duplicate names are refused', () => {
    expect(() => compileInferenceRoutes([OK, OK])).toThrow(
      expect.objectContaining({ code: 'ERR_USAGE' }),
    );
  });
});

describe('request shapes and headers', () => {
  test.for([
    ['POST', '/v1/chat/completions', 'openai'],
    ['post', '/v1/embeddings', 'openai'],
    ['POST', '/v1/responses', 'openai'],
    ['POST', '/v1/messages', 'anthropic'],
    ['GET', '/v1/models', 'openai'],
    ['GET', '/v1/models/llama3:8b', 'openai'],
    ['GET', '/v1/models/..', null],
    ['POST', '/v1/messages/batches', null],
    ['PUT', '/v1/chat/completions', null],
  ] as const)('%s %s → %s', ([method, path, shape]) => {
    expect(classifyInferenceRequest(method, path)?.shape ?? null).toBe(shape);
  });

  test('only allowlisted caller headers pass, and the route key is added per shape', () => {
    const [openai] = compileInferenceRoutes([{ ...OK, apiKey: 'route' }]).values();
    const [anthropic] = compileInferenceRoutes([
      { ...OK, api: 'anthropic', apiKey: 'route' },
    ]).values();
    if (!openai || !anthropic) throw new Error('routes missing');
    const raw = [
      'Authorization',
      'Bearer caller',
      'Accept',
      'text/event-stream',
      'X-Api-Key',
      'c',
      'Anthropic-Beta',
      'b1',
    ];
    expect(toRouteHeaders(openai, raw, 2)).toEqual({
      accept: 'text/event-stream',
      authorization: 'Bearer route',
      'content-type': 'application/json',
      'content-length': '2',
    });
    expect(toRouteHeaders(anthropic, raw, null)).toEqual({
      accept: 'text/event-stream',
      'anthropic-beta': 'b1',
      'anthropic-version': '2023-06-01',
      'x-api-key': 'route',
    });
  });
});
