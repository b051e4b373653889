import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { curl, openTunnel } from './helpers/clients.js';
import {
  ANTHROPIC_KEY,
  FRONTIER_KEY,
  LOCAL_KEY,
  inferencePolicy,
  startInferenceFixture,
  type InferenceFixture,
} from './helpers/inference-fixture.js';

let f: InferenceFixture;

beforeAll(async () => {
  f = await startInferenceFixture();
});

afterAll(async () => {
  await f.close();
});

const chat = (model: string, content = 'hello'): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content }],
});

interface Echo {
  server: string;
  model: string;
  received: { url: string; headers: Record<string, string>; body: string };
}

describe('inference.local routing', () => {
  test.for([
    ['a model no route lists → default_route, model replaced', 'gpt-4o', 'local', 'llama-local'],
    ['no model at all → default_route', '', 'local', 'llama-local'],
    [
      'a model the policy lists on a frontier route → that route',
      'gpt-frontier',
      'frontier',
      'gpt-frontier',
    ],
    ["the default route's own model → kept", 'llama-local', 'local', 'llama-local'],
  ] as const)('%s', async ([, model, server, sentModel]) => {
    const r = await f.callJson(
      'POST',
      '/v1/chat/completions',
      model ? chat(model) : { messages: [] },
    );
    expect(r.status).toBe(200);
    const echo = r.body as unknown as Echo;
    expect([echo.server, echo.model, echo.received.url]).toEqual([
      server,
      sentModel,
      '/v1/chat/completions',
    ]);
    expect(f.lastEvent()).toMatchObject({
      host: 'inference.local',
      action: 'allow',
      outcome: 'inference_routed',
      route: server,
      rule: null,
    });
  });

  test('Anthropic Messages shape → the anthropic route, with x-api-key and anthropic-version', async () => {
    const r = await f.callJson('POST', '/v1/messages', chat('claude-big'), {
      'anthropic-beta': 'tools-2024',
    });
    expect(r.status).toBe(200);
    const echo = r.body as unknown as Echo;
    expect(echo.server).toBe('claude');
    expect(echo.received.headers).toMatchObject({
      'x-api-key': ANTHROPIC_KEY,
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'tools-2024',
    });
    expect(echo.received.headers['authorization']).toBeUndefined();
  });

  test('GET /v1/models goes to the default route (positive control for the path refusals)', async () => {
    const r = await f.callJson('GET', '/v1/models');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ data: [{ id: 'local-model' }] });
  });

  test.for([
    ['POST /v1/files', 'POST', '/v1/files'],
    ['GET on a POST endpoint', 'GET', '/v1/chat/completions'],
    ['a dot-segment escape', 'POST', '/v1/chat/completions/../../admin'],
    ['an encoded slash', 'POST', '/v1/chat%2Fcompletions'],
    ['a prefix of a known path', 'POST', '/v1/chat'],
    ['DELETE a model', 'DELETE', '/v1/models/llama-local'],
  ] as const)('%s → 403 inference_path_denied, nothing forwarded', async ([, method, path]) => {
    const before = f.upstreamCount();
    const r = await f.callJson(method, path, method === 'POST' ? chat('gpt-4o') : undefined);
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ error: 'inference_path_denied' });
    expect(f.upstreamCount()).toBe(before);
  });

  test('shape mismatch: /v1/messages for a model no anthropic route lists → 400, and nothing is forwarded', async () => {
    const before = f.upstreamCount();
    const r = await f.callJson('POST', '/v1/messages', chat('some-claude'));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'no_compatible_route' });
    expect(String(r.body['detail'])).toContain('no compatible inference route');
    expect(f.upstreamCount()).toBe(before);
    expect(f.lastEvent()).toMatchObject({ action: 'deny', outcome: 'no_compatible_route' });
  });

  test('a body that is not a JSON object → 400', async () => {
    const r = await f.callJson('POST', '/v1/chat/completions', '[1,2]');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'inference_bad_request' });
  });
});

describe('credentials', () => {
  test("the route sees its own key, never the caller's Authorization, x-api-key or placeholders", async () => {
    const callerSecrets = {
      authorization: 'Bearer caller-own-key-9999',
      'x-api-key': 'caller-x-api-key-8888',
      'openai-organization': 'org-caller',
      'x-custom': 'openshell:resolve:env:OPENAI_API_KEY',
      'openai-beta': 'openshell:resolve:env:OPENAI_API_KEY',
      cookie: 'session=caller',
    };
    for (const [path, model, key, header] of [
      ['/v1/chat/completions', 'gpt-4o', `Bearer ${LOCAL_KEY}`, 'authorization'],
      ['/v1/chat/completions', 'gpt-frontier', `Bearer ${FRONTIER_KEY}`, 'authorization'],
      ['/v1/messages', 'claude-big', ANTHROPIC_KEY, 'x-api-key'],
    ] as const) {
      const r = await f.callJson('POST', path, chat(model), callerSecrets);
      expect(r.status).toBe(200);
      const headers = (r.body as unknown as Echo).received.headers;
      expect(headers[header]).toBe(key);
      const seen = JSON.stringify(headers);
      for (const value of [
        'caller-own-key',
        'caller-x-api-key',
        'org-caller',
        'openshell:resolve',
        'session=caller',
      ])
        expect(seen).not.toContain(value);
    }
  });

  test('decision events carry route and outcome, never bodies or keys', () => {
    const all = JSON.stringify(f.harness.events);
    expect(all).toContain('"route":"frontier"');
    for (const secret of [LOCAL_KEY, FRONTIER_KEY, ANTHROPIC_KEY, 'caller-own-key', 'hello'])
      expect(all).not.toContain(secret);
  });
});

describe('forward-form and ports', () => {
  test('plain http://inference.local/… through the proxy is routed too', async () => {
    const r = await curl(f.harness.url, [
      '-H',
      'content-type: application/json',
      '-d',
      JSON.stringify(chat('gpt-4o')),
      'http://inference.local/v1/chat/completions',
    ]);
    expect(r.code).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ server: 'local', model: 'llama-local' });
  });

  test('CONNECT inference.local on another port → 403; nothing is dialled for inference.local', async () => {
    const { socket, response } = await openTunnel(f.harness.port, 'inference.local:8443');
    socket.destroy();
    expect(response.status).toBe(403);
  });
});

describe('hot reload', () => {
  test('a new inference section applies to the next request; removing it → 403 inference_not_enabled', async () => {
    const route = async (): Promise<unknown> =>
      ((await f.callJson('POST', '/v1/chat/completions', chat('gpt-4o'))).body as unknown as Echo)
        .server;
    expect(await route()).toBe('local');
    expect((await f.harness.setPolicy(inferencePolicy({ defaultRoute: 'frontier' }))).ok).toBe(
      true,
    );
    expect(await route()).toBe('frontier');

    expect((await f.harness.setPolicy('version: 1\n')).ok).toBe(true);
    const r = await f.callJson('POST', '/v1/chat/completions', chat('gpt-4o'));
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ error: 'inference_not_enabled' });

    expect((await f.harness.setPolicy(inferencePolicy())).ok).toBe(true);
    expect(await route()).toBe('local');
  });

  test('setInferenceRoutes swaps routes for the next request; an invalid set is refused and the old one kept', async () => {
    const [local, ...rest] = f.routes;
    if (!local) throw new Error('fixture has no local route');
    f.harness.proxy.setInferenceRoutes([{ ...local, model: 'llama-bigger' }, ...rest]);
    const r = await f.callJson('POST', '/v1/chat/completions', chat('gpt-4o'));
    expect((r.body as unknown as Echo).model).toBe('llama-bigger');

    expect(() => f.harness.proxy.setInferenceRoutes([{ ...local, baseUrl: 'ftp://x' }])).toThrow(
      expect.objectContaining({ code: 'ERR_USAGE' }),
    );
    const after = await f.callJson('POST', '/v1/chat/completions', chat('gpt-4o'));
    expect((after.body as unknown as Echo).model).toBe('llama-bigger');

    f.harness.proxy.setInferenceRoutes(rest);
    const missing = await f.callJson('POST', '/v1/chat/completions', chat('gpt-4o'));
    expect(missing.status).toBe(503);
    expect(missing.body).toMatchObject({ error: 'inference_route_unavailable' });
    f.harness.proxy.setInferenceRoutes(f.routes);
  });

  test('a route that is down → 502 upstream_failed naming the route', async () => {
    const [local, ...rest] = f.routes;
    if (!local) throw new Error('fixture has no local route');
    f.harness.proxy.setInferenceRoutes([{ ...local, baseUrl: 'http://127.0.0.1:1/v1' }, ...rest]);
    const r = await f.callJson('POST', '/v1/chat/completions', chat('gpt-4o'));
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({ error: 'upstream_failed' });
    expect(String(r.body['detail'])).toContain('local');
    f.harness.proxy.setInferenceRoutes(f.routes);
  });
});
