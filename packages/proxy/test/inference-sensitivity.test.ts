import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readText } from './helpers/clients.js';
import {
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

const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const GITHUB_TOKEN = `ghp_${'a1B2c3D4e5'.repeat(4)}`;
const PEM =
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAq7secretmaterial\n-----END RSA PRIVATE KEY-----';

const ask = (model: string, content: string): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content }],
});

describe('sensitivity rules on a request for a frontier model', () => {
  test.for([
    [
      'clean content (positive control)',
      'summarise this README',
      'frontier',
      'inference_routed',
      null,
    ],
    [
      'an AWS access key id',
      `deploy with ${AWS_KEY} please`,
      'local',
      'inference_kept_local',
      'secrets',
    ],
    ['a GitHub token', `token is ${GITHUB_TOKEN}`, 'local', 'inference_kept_local', 'secrets'],
    [
      'an sk- API key',
      'use sk-proj-abcdefghijklmnopqrstuvwx',
      'local',
      'inference_kept_local',
      'secrets',
    ],
    [
      'a password assignment',
      'config: password=hunter22',
      'local',
      'inference_kept_local',
      'secrets',
    ],
  ] as const)('%s → %s', async ([, content, server, outcome, rule]) => {
    const r = await f.callJson('POST', '/v1/chat/completions', ask('gpt-frontier', content));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ server });
    // Kept local: the local route's configured model, never the frontier model name.
    expect(r.body['model']).toBe(server === 'local' ? 'llama-local' : 'gpt-frontier');
    expect(f.lastEvent()).toMatchObject({ action: 'allow', outcome, route: server, rule });
  });

  test('a JSON-escaped secret (\\u0041KIA…) is judged decoded and kept local', async () => {
    const raw = `{"model":"gpt-frontier","messages":[{"role":"user","content":"\\u0041${AWS_KEY.slice(1)}"}]}`;
    const r = await f.callJson('POST', '/v1/chat/completions', raw);
    expect(r.body).toMatchObject({ server: 'local' });
  });

  test.for([
    ['a private key block (builtin, refuse)', PEM, 'keys', 'gpt-frontier'],
    ['a private key block to the local default route', PEM, 'keys', 'gpt-4o'],
    ['a custom pattern (refuse)', 'status of project-falcon?', 'codename', 'gpt-frontier'],
  ] as const)(
    '%s → 403 naming the rule, nothing forwarded, content not echoed',
    async ([, content, rule, model]) => {
      const before = f.upstreamCount();
      const r = await f.callJson('POST', '/v1/chat/completions', ask(model, content));
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ error: 'inference_refused', rule });
      expect(JSON.stringify(r.body)).not.toContain(content.slice(0, 40));
      expect(f.upstreamCount()).toBe(before);
      expect(f.lastEvent()).toMatchObject({ action: 'deny', outcome: 'inference_refused', rule });
      expect(JSON.stringify(f.harness.events)).not.toContain('secretmaterial');
    },
  );

  test('the same custom rule lets a non-matching codename through (positive control)', async () => {
    const r = await f.callJson(
      'POST',
      '/v1/chat/completions',
      ask('gpt-frontier', 'project-eagle?'),
    );
    expect(r.body).toMatchObject({ server: 'frontier' });
  });

  test('keep_local when the default route is frontier → the first local route; with no local route → 403', async () => {
    const routes = `    frontier: { kind: frontier, models: [gpt-frontier] }
    local: { kind: local }`;
    expect(
      (await f.harness.setPolicy(inferencePolicy({ defaultRoute: 'frontier', routes }))).ok,
    ).toBe(true);
    const moved = await f.callJson('POST', '/v1/chat/completions', ask('gpt-4o', AWS_KEY));
    expect(moved.body).toMatchObject({ server: 'local', model: 'llama-local' });
    const clean = await f.callJson('POST', '/v1/chat/completions', ask('gpt-4o', 'hi'));
    expect(clean.body).toMatchObject({ server: 'frontier', model: 'gpt-default' });

    const onlyFrontier = `    frontier: { kind: frontier, models: [gpt-frontier] }`;
    const ack = await f.harness.setPolicy(
      inferencePolicy({ defaultRoute: 'frontier', routes: onlyFrontier }),
    );
    expect(ack.ok).toBe(true);
    const before = f.upstreamCount();
    const refused = await f.callJson('POST', '/v1/chat/completions', ask('gpt-4o', AWS_KEY));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'inference_refused', rule: 'secrets' });
    expect(f.upstreamCount()).toBe(before);
    expect((await f.harness.setPolicy(inferencePolicy())).ok).toBe(true);
  });

  test('a route the operator configured as frontier is never treated as local, whatever the policy says', async () => {
    const routes = `    frontier: { kind: local }
    local: { kind: local }`;
    expect(
      (await f.harness.setPolicy(inferencePolicy({ defaultRoute: 'frontier', routes }))).ok,
    ).toBe(true);
    const r = await f.callJson('POST', '/v1/chat/completions', ask('gpt-4o', AWS_KEY));
    expect(r.body).toMatchObject({ server: 'local' });
    expect((await f.harness.setPolicy(inferencePolicy())).ok).toBe(true);
  });

  test('a catastrophic custom pattern times out and fails closed (its action applies)', async () => {
    const sensitivity = `    - { name: slow, pattern: "(a+)+$", action: refuse }`;
    expect((await f.harness.setPolicy(inferencePolicy({ sensitivity }))).ok).toBe(true);
    const slow = await f.callJson(
      'POST',
      '/v1/chat/completions',
      ask('gpt-4o', `${'a'.repeat(40)}!`),
    );
    expect(slow.status).toBe(403);
    expect(slow.body).toMatchObject({ rule: 'slow' });
    expect(f.lastEvent()?.reason).toContain('pattern-timeout');
    const quick = await f.callJson('POST', '/v1/chat/completions', ask('gpt-4o', 'bbb'));
    expect(quick.status).toBe(200);
    expect((await f.harness.setPolicy(inferencePolicy())).ok).toBe(true);
  });
});

describe('streaming', () => {
  test.for([
    ['openai SSE', '/v1/chat/completions', 'gpt-4o', 'local', '"first"'],
    ['anthropic SSE', '/v1/messages', 'claude-big', 'claude', 'message_start'],
  ] as const)(
    '%s: the first event arrives while the upstream is still holding the rest',
    async ([, path, model, name, marker]) => {
      const server = name === 'local' ? f.local : f.claude;
      const release = server.holdStreams();
      try {
        const res = await f.call('POST', path, { ...ask(model, 'stream please'), stream: true });
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toBe('text/event-stream');
        res.setEncoding('utf8');
        const first = await new Promise<string>((resolve) => res.once('data', resolve));
        expect(first).toContain(marker);
        // The upstream has not finished: the proxy relayed the event without waiting for the end.
        expect(server.held).toBe(1);
        release();
        const rest = await readText(res);
        expect(first + rest).toMatch(/last/);
        expect(server.held).toBe(0);
      } finally {
        release();
      }
    },
  );
});
