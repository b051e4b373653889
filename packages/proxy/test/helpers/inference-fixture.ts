import type { IncomingMessage } from 'node:http';
import type { DecisionEvent, InferenceRoute } from '../../src/index.js';
import { readText, requestViaTunnel } from './clients.js';
import { startFakeModelServer, type FakeModelServer } from './fake-model-servers.js';
import { startHarness, type Harness } from './proxy-harness.js';
import { createTestCertificate } from './upstream-servers.js';

export const LOCAL_KEY = 'local-route-key-0001';
export const FRONTIER_KEY = 'frontier-route-key-0002';
export const ANTHROPIC_KEY = 'anthropic-route-key-0003';

/** The policy most inference tests run under; `extra` replaces the sensitivity list. */
export function inferencePolicy(
  options: { defaultRoute?: string; routes?: string; sensitivity?: string } = {},
): string {
  return `
version: 1
inference:
  default_route: ${options.defaultRoute ?? 'local'}
  routes:
${
  options.routes ??
  `    local: { kind: local }
    frontier: { kind: frontier, models: [gpt-frontier] }
    claude: { kind: frontier, models: [claude-big] }`
}
  sensitivity:
${
  options.sensitivity ??
  `    - { name: secrets, builtin: secrets, action: keep_local }
    - { name: keys, builtin: private_keys, action: refuse }
    - { name: codename, pattern: "project-(?:falcon|osprey)", action: refuse }`
}
`;
}

export interface InferenceFixture {
  readonly harness: Harness;
  readonly local: FakeModelServer;
  readonly frontier: FakeModelServer;
  readonly claude: FakeModelServer;
  /** The route set given to the proxy (frontier over verified HTTPS). */
  readonly routes: InferenceRoute[];
  /** Sends one request to https://inference.local through the proxy. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<IncomingMessage>;
  /** `call`, then the parsed JSON body. */
  callJson(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Total requests the three fake servers have received. */
  upstreamCount(): number;
  lastEvent(): DecisionEvent | undefined;
  close(): Promise<void>;
}

/** Starts three fake model servers (local openai, frontier openai over HTTPS, anthropic) and a proxy routing to them. */
export async function startInferenceFixture(policy = inferencePolicy()): Promise<InferenceFixture> {
  const cert = await createTestCertificate(['127.0.0.1']);
  const local = await startFakeModelServer('local', 'openai');
  const frontier = await startFakeModelServer('frontier', 'openai', cert);
  const claude = await startFakeModelServer('claude', 'anthropic');
  const harness = await startHarness({ policy, options: { upstreamCaPem: cert.certPem } });
  const routes: InferenceRoute[] = [
    {
      name: 'local',
      kind: 'local',
      api: 'openai',
      baseUrl: `http://127.0.0.1:${local.port}/v1`,
      model: 'llama-local',
      apiKey: LOCAL_KEY,
    },
    {
      name: 'frontier',
      kind: 'frontier',
      api: 'openai',
      baseUrl: `https://127.0.0.1:${frontier.port}/v1`,
      model: 'gpt-default',
      apiKey: FRONTIER_KEY,
    },
    {
      name: 'claude',
      kind: 'frontier',
      api: 'anthropic',
      baseUrl: `http://127.0.0.1:${claude.port}`,
      model: 'claude-default',
      apiKey: ANTHROPIC_KEY,
    },
  ];
  harness.proxy.setInferenceRoutes(routes);
  const call: InferenceFixture['call'] = (method, path, body, headers = {}) =>
    requestViaTunnel(harness.port, 'inference.local', harness.proxy.caCertPem, {
      method,
      path,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  return {
    harness,
    local,
    frontier,
    claude,
    routes,
    call,
    async callJson(method, path, body, headers) {
      const res = await call(method, path, body, headers);
      const text = await readText(res);
      return { status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> };
    },
    upstreamCount: () => local.seen.length + frontier.seen.length + claude.seen.length,
    lastEvent: () => harness.events.at(-1),
    async close() {
      await harness.close();
      await Promise.all([local.close(), frontier.close(), claude.close()]);
    },
  };
}
