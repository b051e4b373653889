import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { curl, openTunnel, readResponse } from './helpers/clients.js';
import { NODE_EXE, startHarness, type Harness } from './helpers/proxy-harness.js';
import { forwardFrom } from './helpers/sandbox-clients.js';
import { startHttpUpstream, type Upstream } from './helpers/upstream-servers.js';

const POLICY = `
version: 1
network_policies:
  github:
    name: github-api
    endpoints:
      - host: api.github.com
        port: 443
        protocol: rest
        access: read-only
        deny_rules:
          - { method: GET, path: "/admin/**" }
      - host: search.example.com
        port: 443
        protocol: rest
        rules:
          - allow: { method: GET, path: "/search", query: { q: "repo:*" } }
      - host: plain.example.com
        port: 80
        protocol: rest
        rules:
          - allow: { method: GET, path: "/public/**" }
    binaries:
      - path: /usr/bin/curl
`;

const CHECK = 'http://policy.local/v1/check';

let dir: string;
let curlCopy: string;
let upstream: Upstream;
let harness: Harness;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'proxy-policy-check-'));
  // The same program under an unlisted path: a binary the policy does not name.
  curlCopy = join(dir, 'curl-copy');
  copyFileSync('/usr/bin/curl', curlCopy);
  chmodSync(curlCopy, 0o755);
  // A real server behind the checked name, to prove a check never reaches it.
  upstream = await startHttpUpstream();
  harness = await startHarness({
    policy: POLICY,
    options: { resolveOverrides: [`plain.example.com:80=127.0.0.1:${upstream.port}`] },
  });
});

afterAll(async () => {
  await harness.close();
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `curl http://policy.local/v1/check?…` through the proxy, as an agent in a sandbox would. */
async function check(
  params: Record<string, string>,
  options: { bin?: string; method?: string } = {},
): Promise<{ code: number; body: Record<string, unknown> }> {
  const url = `${CHECK}?${new URLSearchParams(params).toString()}`;
  const r = await curl(harness.url, [...(options.method ? ['-X', options.method] : []), url], {
    ...(options.bin ? { bin: options.bin } : {}),
  });
  return { code: r.code, body: JSON.parse(r.body) as Record<string, unknown> };
}

describe('policy.local answers what a real request would get', () => {
  test.for([
    ['GET on read-only', 'https://api.github.com/repos/o/r', 'GET', 'allow', 'l7', '/repos/o/r'],
    [
      'POST beside it',
      'https://api.github.com/repos/o/r/issues',
      'POST',
      'deny',
      'l7',
      '/repos/o/r/issues',
    ],
    ['deny rule', 'https://api.github.com/admin/users', 'GET', 'deny', 'l7', '/admin/users'],
    [
      '`..` into the deny rule',
      'https://api.github.com/a/../admin/users',
      'GET',
      'deny',
      'l7',
      '/admin/users',
    ],
    [
      'encoded `..` into the deny rule',
      'https://api.github.com/public/%2e%2e/admin/x',
      'GET',
      'deny',
      'l7',
      '/admin/x',
    ],
    [
      '`..` out of a denied prefix',
      'https://api.github.com/admin/../repos',
      'GET',
      'allow',
      'l7',
      '/repos',
    ],
    [
      'query matcher satisfied',
      'https://search.example.com/search?q=repo:o/r',
      'GET',
      'allow',
      'l7',
      '/search',
    ],
    [
      'query matcher not satisfied',
      'https://search.example.com/search?q=org:o',
      'GET',
      'deny',
      'l7',
      '/search',
    ],
    ['query key missing', 'https://search.example.com/search', 'GET', 'deny', 'l7', '/search'],
    ['unlisted host', 'https://evil.example.org/x', 'GET', 'deny', 'l4', '/x'],
    [
      'listed host, unlisted port',
      'https://api.github.com:8443/repos/o/r',
      'GET',
      'deny',
      'l4',
      '/repos/o/r',
    ],
  ] as const)('%s: %s %s → %s', async ([, url, method, action, layer, path]) => {
    const r = await check({ url, method });
    expect(r.code).toBe(200);
    expect(r.body).toMatchObject({ action, layer, path, method, binary: '/usr/bin/curl' });
    if (layer === 'l7')
      expect(r.body).toMatchObject({ policy: 'github', policy_name: 'github-api' });
  });

  test('an allow names the rule that decides, a deny the rule it hit', async () => {
    const allowed = await check({ url: 'https://api.github.com/repos/o/r' });
    const denied = await check({ url: 'https://api.github.com/admin/users' });
    expect(allowed.body).toMatchObject({
      action: 'allow',
      host: 'api.github.com',
      port: 443,
      binary_source: 'caller',
      matched_binary: '/usr/bin/curl',
    });
    expect(allowed.body['rule']).toMatch(/^GET /);
    expect(denied.body).toMatchObject({ action: 'deny', rule: 'GET /admin/**' });
  });

  test('the answers agree with real requests for the same targets', async () => {
    const before = upstream.seen.length;
    const answer = (path: string): Promise<{ code: number; body: Record<string, unknown> }> =>
      check({ url: `http://plain.example.com${path}` });
    const real = (path: string): Promise<{ code: number }> =>
      curl(harness.url, [`http://plain.example.com${path}`]);
    expect((await answer('/public/readme')).body['action']).toBe('allow');
    expect((await real('/public/readme')).code).toBe(200);
    expect((await answer('/public/../private/keys')).body['action']).toBe('deny');
    expect((await real('/public/../private/keys')).code).toBe(403);
    // Only the one real allowed request reached the server; the checks never did.
    expect(upstream.seen.length).toBe(before + 1);
  });

  test('host= and port= (and path=) work instead of url=', async () => {
    const allowed = await check({ host: 'plain.example.com', port: '80', path: '/public/x' });
    const denied = await check({ host: 'plain.example.com', port: '80', path: '/other' });
    const l4 = await check({ host: 'API.GitHub.com.' });
    expect(allowed.body).toMatchObject({ action: 'allow', host: 'plain.example.com', port: 80 });
    expect(denied.body).toMatchObject({ action: 'deny', path: '/other' });
    // Host normalised as for a CONNECT; port defaults to 443, path to /.
    expect(l4.body).toMatchObject({
      action: 'allow',
      host: 'api.github.com',
      port: 443,
      path: '/',
    });
  });
});

describe('binary identity', () => {
  test('curl is allowed; the same program under an unlisted path is not', async () => {
    const url = 'https://api.github.com/repos/o/r';
    const listed = await check({ url });
    const unlisted = await check({ url }, { bin: curlCopy });
    expect(listed.body).toMatchObject({ action: 'allow', binary: '/usr/bin/curl' });
    expect(unlisted.body).toMatchObject({ action: 'deny', layer: 'l4', binary: curlCopy });
    expect(unlisted.body['reason']).toContain(curlCopy);
  });

  test.for([
    ['/usr/bin/curl', 'allow'],
    ['/usr/bin/wget', 'deny'],
  ] as const)(
    'binary=%s is informational and decided for that path → %s',
    async ([binary, action]) => {
      const r = await check({ url: 'https://api.github.com/repos/o/r', binary }, { bin: curlCopy });
      expect(r.body).toMatchObject({ action, binary, binary_source: 'query' });
      expect(r.body['note']).toMatch(/informational/);
    },
  );
});

describe('refusals', () => {
  test.for([
    ['no target', {}, 'url'],
    ['unknown parameter', { url: 'https://api.github.com/', verb: 'POST' }, 'verb'],
    ['non-http URL', { url: 'ftp://api.github.com/' }, 'url'],
    ['bad port', { host: 'api.github.com', port: '70000' }, 'port'],
    ['bad method', { url: 'https://api.github.com/', method: 'GET /x' }, 'method'],
    ['relative binary', { url: 'https://api.github.com/', binary: 'curl' }, 'binary'],
  ] as const)('%s → 400 naming %s', async ([, params, parameter]) => {
    const r = await check(params);
    expect(r.code).toBe(400);
    expect(r.body).toMatchObject({ error: 'policy_check_refused', parameter });
    expect(r.body['detail']).toContain(parameter);
  });

  test.for([
    ['POST', 405],
    ['PUT', 405],
    ['GET', 200],
  ] as const)('%s /v1/check → %i', async ([method, code]) => {
    const r = await check({ url: 'https://api.github.com/' }, { method });
    expect(r.code).toBe(code);
  });

  test('another path on policy.local → 404; /v1/check beside it → 200', async () => {
    const other = await curl(harness.url, ['http://policy.local/v1/other']);
    const ok = await curl(harness.url, [`${CHECK}?url=https%3A%2F%2Fapi.github.com%2F`]);
    expect([other.code, ok.code]).toEqual([404, 200]);
  });

  test.for([
    ['an Upgrade (WebSocket) request', 'Connection: Upgrade\r\nUpgrade: websocket\r\n', 403],
    ['the same request without Upgrade', '', 200],
  ] as const)('%s to policy.local → %i', async ([, extra, status]) => {
    const socket = connect({ host: '127.0.0.1', port: harness.port });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `GET ${CHECK}?host=api.github.com HTTP/1.1\r\nHost: policy.local\r\n${extra}Connection: close\r\n\r\n`,
    );
    const response = await readResponse(socket);
    socket.destroy();
    expect(response.status).toBe(status);
  });

  test.for([443, 80])(
    'CONNECT policy.local:%i is refused, pointing at http://policy.local',
    async (port) => {
      const { socket, response } = await openTunnel(harness.port, `policy.local:${port}`);
      socket.destroy();
      expect(response.status).toBe(403);
      expect(JSON.parse(response.body)).toMatchObject({ error: 'policy_denied' });
      expect(JSON.parse(response.body).detail).toContain('http://policy.local');
      expect(harness.events.at(-1)).toMatchObject({
        host: 'policy.local',
        method: 'CONNECT',
        outcome: 'policy_check_refused',
      });
    },
  );
});

describe('decision events', () => {
  test('each check is logged with outcome policy_check, the checked target and the caller', async () => {
    const before = harness.events.length;
    await check({ url: 'https://api.github.com/a/../admin/users?token=s3cret', method: 'GET' });
    const added = harness.events.slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({
      outcome: 'policy_check',
      action: 'deny',
      host: 'api.github.com',
      port: 443,
      method: 'GET',
      path: '/admin/users',
      policy: 'github',
      rule: 'GET /admin/**',
      binary: '/usr/bin/curl',
      sandbox: 'default',
    });
    expect(added[0]?.pid).toBeGreaterThan(0);
    expect(JSON.stringify(added[0])).not.toContain('s3cret');
  });

  test('a refused check is logged too', async () => {
    const before = harness.events.length;
    await check({ url: 'https://api.github.com/' }, { method: 'POST' });
    expect(harness.events.slice(before)).toEqual([
      expect.objectContaining({ outcome: 'policy_check_refused', host: 'policy.local' }),
    ]);
  });
});

describe('sandbox scoping', () => {
  const only = (host: string): string => `
version: 1
network_policies:
  mine:
    name: mine
    endpoints:
      - { host: ${host}, port: 443 }
    binaries:
      - path: ${NODE_EXE}
`;
  let multi: Harness;

  beforeAll(async () => {
    multi = await startHarness();
    for (const [id, source, host] of [
      ['a', '127.0.0.2', 'a.example.com'],
      ['b', '127.0.0.3', 'b.example.com'],
    ] as const) {
      const ack = await multi.proxy.setSandbox({
        id,
        sourceAddresses: [`${source}/32`],
        policy: only(host),
        version: 1,
      });
      expect(ack.ok).toBe(true);
    }
  });
  afterAll(() => multi.close());

  const checkFrom = (source: string, host: string): ReturnType<typeof forwardFrom> =>
    forwardFrom(multi.port, source, `${CHECK}?host=${host}`);

  test('each sandbox is answered from its own policy only', async () => {
    const own = await checkFrom('127.0.0.2', 'a.example.com');
    const others = await checkFrom('127.0.0.2', 'b.example.com');
    expect(own.status).toBe(200);
    expect(JSON.parse(own.body)).toMatchObject({
      action: 'allow',
      policy: 'mine',
      binary: NODE_EXE,
    });
    expect(JSON.parse(others.body)).toMatchObject({ action: 'deny', policy: null });
    expect(JSON.parse((await checkFrom('127.0.0.3', 'b.example.com')).body)).toMatchObject({
      action: 'allow',
    });
  });

  test('an unknown source address gets 403, like any request, and learns nothing', async () => {
    const r = await checkFrom('127.0.0.4', 'a.example.com');
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toEqual({
      error: 'policy_denied',
      detail: 'GET policy.local:80 not permitted by policy',
    });
    expect(multi.events.at(-1)).toMatchObject({ outcome: 'sandbox_unknown', host: 'policy.local' });
  });
});
