import { InferenceApiShape, InferenceRouteKind, type InferenceRoute } from '@openshell/proto';
import { describe, expect, test } from 'vitest';
import { formatRouteList, parseBaseUrl, resolveApiKey, routeToJson } from './inference-view.js';

const route: InferenceRoute = {
  name: 'local',
  kind: InferenceRouteKind.INFERENCE_ROUTE_KIND_LOCAL,
  baseUrl: 'http://127.0.0.1:11434/v1',
  api: InferenceApiShape.INFERENCE_API_SHAPE_OPENAI,
  model: 'llama3.1',
  hasApiKey: false,
  updatedAtMs: Date.UTC(2026, 10, 27, 9),
};

describe('inference views', () => {
  test('JSON names enums and shows has_api_key, not a key', () => {
    expect(routeToJson(route)).toEqual({
      name: 'local',
      kind: 'local',
      base_url: 'http://127.0.0.1:11434/v1',
      api: 'openai',
      model: 'llama3.1',
      has_api_key: false,
      updated_at: '2026-11-27T09:00:00.000Z',
    });
  });

  test('list table and empty list', () => {
    expect(formatRouteList([route])).toBe(
      'NAME   KIND   API     MODEL     BASE_URL                   API_KEY  UPDATED\n' +
        'local  local  openai  llama3.1  http://127.0.0.1:11434/v1  no       2026-11-27 09:00:00 UTC\n',
    );
    expect(formatRouteList([])).toMatch(/^No inference routes\./);
  });

  test.for([
    ['ftp://x.example.com', /must start with http/],
    ['not a url', /not a URL/],
    ['https://user:pw@api.example.com', /remove the user:password/],
  ] as const)('--base-url %s refused', ([url, why]) => {
    expect(() => parseBaseUrl(url)).toThrow(
      expect.objectContaining({ code: 'ERR_USAGE', message: expect.stringMatching(why) }),
    );
  });

  test('--base-url accepts http and https', () => {
    expect(parseBaseUrl('https://api.anthropic.com')).toBe('https://api.anthropic.com');
  });

  test('api key: env var read, --no-api-key empties, neither keeps (undefined), unset var refused', () => {
    expect(resolveApiKey({ apiKeyEnv: 'K', noApiKey: false }, { K: 'secret' })).toBe('secret');
    expect(resolveApiKey({ noApiKey: true }, {})).toBe('');
    expect(resolveApiKey({ noApiKey: false }, { K: 'secret' })).toBeUndefined();
    expect(() => resolveApiKey({ apiKeyEnv: 'K', noApiKey: false }, {})).toThrow(
      /--api-key-env K: the environment variable K is not set/,
    );
  });
});
