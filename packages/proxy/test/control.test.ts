import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Action,
  DecisionLayer,
  Enforcement,
  InferenceApiShape,
  InferenceRouteKind,
  type SandboxConfig as WireSandboxConfig,
} from '@openshell/proto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  connectProxyControl,
  createProcCallerResolver,
  createProxy,
  type CallerResolver,
  type Proxy,
  type ProxyControl,
  type SocketInfo,
} from '../src/index.js';
import { run } from './helpers/clients.js';
import { startFakeModelServer, type FakeModelServer } from './helpers/fake-model-servers.js';
import {
  startFakeControlGateway,
  toWireSandbox,
  waitFor,
  type FakeControlGateway,
} from './helpers/fake-control-gateway.js';
import { NODE_EXE } from './helpers/proxy-harness.js';
import { connectStatus, forwardFrom, inferenceFrom } from './helpers/sandbox-clients.js';
import { startHttpUpstream, type Upstream } from './helpers/upstream-servers.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');
const TOKEN = 'proxy-token-5f1c9a0e7d3b4c28';
const SECRET = 'sk-REAL-SECRET-value-0123456789';
const PLACEHOLDER = 'openshell:resolve:env:API_TOKEN';
const ROUTE_KEY = 'route-key-local-9876';
/** Source addresses: sandbox a, sandbox b, an address no sandbox owns. */
const A = '127.0.0.2';
const B = '127.0.0.3';
const STRANGER = '127.0.0.4';
/** The second proxy's own sandbox (set directly, not by the gateway). */
const LOCAL = '127.0.0.5';

function policy(hosts: readonly string[]): string {
  return `version: 1
network_policies:
  web:
    name: web-egress
    endpoints:
${hosts.map((h) => `      - { host: ${h}, port: 80, protocol: rest, access: full }`).join('\n')}
    binaries:
      - path: ${NODE_EXE}
inference:
  default_route: local
  routes:
    local: { kind: local }
`;
}

const sandboxA = (
  version: number,
  hosts: readonly string[],
  extra: Partial<WireSandboxConfig> = {},
): WireSandboxConfig => ({
  ...toWireSandbox({
    id: 'sb-a',
    name: 'alpha',
    sources: [A],
    version,
    yaml: policy(hosts),
    // A process in the test's own network namespace: the resolver must look there.
    netnsPid: process.pid,
  }),
  ...extra,
});
const sandboxB = (version: number): WireSandboxConfig =>
  toWireSandbox({ id: 'sb-b', name: 'beta', sources: [B], version, yaml: policy(['other.test']) });

let upstream: Upstream;
let model: FakeModelServer;
let gateway: FakeControlGateway;
let stateDir: string;
let proxy: Proxy;
let control: ProxyControl;
let resolver: CallerResolver;
const asked: SocketInfo[] = [];
const warnings: string[] = [];

const status = (source: string, authority: string): Promise<number> =>
  connectStatus(proxy.address.port, source, authority);
const ackOf = (id: string, version: number, from = 0) =>
  waitFor(`ack of ${id} v${version}`, () =>
    gateway.acks.slice(from).find((a) => a.sandboxId === id && a.version === version),
  );

beforeAll(async () => {
  upstream = await startHttpUpstream();
  model = await startFakeModelServer('local', 'openai');
  gateway = await startFakeControlGateway(TOKEN);
  gateway.desired = [sandboxA(1, ['allowed.test']), sandboxB(1)];
  stateDir = mkdtempSync(join(tmpdir(), 'proxy-control-'));
  const real = createProcCallerResolver({ warn: () => undefined });
  resolver = {
    resolve(info) {
      asked.push(info);
      return real.resolve(info);
    },
    close: () => real.close?.(),
  };
  proxy = await createProxy(
    {
      stateDir,
      resolveOverrides: ['allowed.test', 'other.test', 'outage.test'].map(
        (h) => `${h}:80=127.0.0.1:${upstream.port}`,
      ),
    },
    { callerResolver: resolver, warn: (m) => warnings.push(m) },
  );
  control = connectProxyControl(
    proxy,
    {
      address: gateway.address,
      caPem: gateway.caPem,
      token: TOKEN,
      listenAddress: `127.0.0.1:${proxy.address.port}`,
      serverName: 'gateway.test',
    },
    { warn: (m) => warnings.push(m) },
  );
});

afterAll(async () => {
  await control.close();
  await proxy.close();
  resolver.close?.();
  await gateway.close();
  await upstream.close();
  await model.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('proxy ← gateway control stream', () => {
  test('says hello first, applies the full set and acks each sandbox with version and hash', async () => {
    await ackOf('sb-b', 1);
    expect(gateway.streams[0]?.[0]).toBe('hello');
    expect(gateway.hellos[0]).toEqual({
      proxyVersion: '0.1.0',
      listenAddress: `127.0.0.1:${proxy.address.port}`,
    });
    expect(gateway.acks).toEqual([
      { sandboxId: 'sb-a', version: 1, hash: gateway.desired[0]?.policyHash, ok: true },
      { sandboxId: 'sb-b', version: 1, hash: gateway.desired[1]?.policyHash, ok: true },
    ]);
    expect(gateway.acks[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(control.connected()).toBe(true);
    // A health report follows the sync at once, so the gateway need not wait 10 s for counts.
    const health = await waitFor('health', () => gateway.healths[0]);
    expect(health).toMatchObject({ sandboxes: 2, openTunnels: 0, eventsDropped: 0 });
    expect(health.timeMs).toBeGreaterThan(Date.now() - 60_000);
  });

  test.for([
    [A, 'allowed.test:80', 200],
    [A, 'other.test:80', 403],
    [B, 'other.test:80', 200],
    [B, 'allowed.test:80', 403],
    [STRANGER, 'allowed.test:80', 403],
  ] as const)('pushed policies decide: CONNECT from %s to %s → %i', async ([source, to, code]) => {
    expect(await status(source, to)).toBe(code);
  });

  test('netns_pid reaches the caller resolver (and identity still resolves there)', () => {
    expect(asked.find((i) => i.sandboxId === 'sb-a')?.netnsPid).toBe(process.pid);
    const b = asked.find((i) => i.sandboxId === 'sb-b');
    expect(b).toBeDefined();
    expect(b?.netnsPid).toBeUndefined();
  });

  test('an upsert changes the decision on the next connection', async () => {
    gateway.push({ payload: { $case: 'upsert', value: sandboxA(2, ['other.test']) } });
    expect(await ackOf('sb-a', 2)).toMatchObject({ ok: true });
    expect(await status(A, 'other.test:80')).toBe(200);
    expect(await status(A, 'allowed.test:80')).toBe(403);
  });

  test.for([
    [
      'an invalid policy',
      () =>
        sandboxA(3, ['allowed.test'], {
          policyJson:
            '{"version":1,"network_policies":{"x":{"endpoints":[{"host":"*.com","port":443}]}}}',
          policyHash: '',
        }),
      'is invalid',
    ],
    [
      'a hash that does not match the body',
      () => sandboxA(3, ['allowed.test'], { policyHash: 'f'.repeat(64) }),
      'policy_hash',
    ],
    ['an older version', () => sandboxA(1, ['allowed.test']), 'older than the active version'],
  ] as const)(
    '%s is acked ok=false with the error, and the previous policy stays in force',
    async ([, make, why]) => {
      const from = gateway.acks.length;
      const pushed = make();
      gateway.push({ payload: { $case: 'upsert', value: pushed } });
      const ack = await ackOf('sb-a', pushed.policyVersion, from);
      expect(ack).toMatchObject({ sandboxId: 'sb-a', ok: false, hash: pushed.policyHash });
      expect(ack.error).toContain('sb-a');
      expect(ack.error).toContain(why);
      expect(await status(A, 'other.test:80')).toBe(200);
      expect(await status(A, 'allowed.test:80')).toBe(403);
      expect(
        warnings.some((w) =>
          w.includes(`sandbox sb-a policy version ${pushed.policyVersion} not applied`),
        ),
      ).toBe(true);
    },
  );

  test('decision events reach the gateway with sandbox, binary, rule and denial code', async () => {
    const allow = await waitFor('allow event', () =>
      gateway.decisions.find((d) => d.host === 'other.test' && d.policyVersion === 2),
    );
    expect(allow).toMatchObject({
      sandboxId: 'sb-a',
      sandboxName: 'alpha',
      binary: NODE_EXE,
      pid: process.pid,
      port: 80,
      action: Action.ACTION_ALLOW,
      layer: DecisionLayer.DECISION_LAYER_L4,
      enforcement: Enforcement.ENFORCEMENT_ENFORCE,
      policy: 'web',
      policyName: 'web-egress',
    });
    expect(allow.rule).toBeTruthy();
    expect(allow.denialCode).toBeUndefined();
    // L4: the proto keeps method/path for requests only.
    expect(allow.method).toBeUndefined();
    expect(allow.timeMs).toBeGreaterThan(Date.now() - 60_000);

    const deny = await waitFor('deny event', () =>
      gateway.decisions.find((d) => d.host === 'allowed.test' && d.policyVersion === 2),
    );
    expect(deny).toMatchObject({
      sandboxId: 'sb-a',
      action: Action.ACTION_DENY,
      layer: DecisionLayer.DECISION_LAYER_L4,
      enforcement: Enforcement.ENFORCEMENT_UNSPECIFIED,
      denialCode: 'policy_denied',
    });
    expect(deny.policy).toBeUndefined();

    const stranger = await waitFor('unknown-source event', () =>
      gateway.decisions.find((d) => d.sandboxId === '' && d.host === 'allowed.test'),
    );
    expect(stranger).toMatchObject({ action: Action.ACTION_DENY, denialCode: 'sandbox_unknown' });
  });

  test('credential bindings are applied; events carry neither the secret nor the placeholder', async () => {
    const from = gateway.acks.length;
    gateway.push({
      payload: {
        $case: 'upsert',
        value: sandboxA(3, ['other.test', 'allowed.test'], {
          credentials: [
            {
              providerId: 'prov-1',
              providerName: 'api-provider',
              envKey: 'API_TOKEN',
              value: SECRET,
              allowedHosts: ['other.test'],
            },
          ],
        }),
      },
    });
    expect(await ackOf('sb-a', 3, from)).toMatchObject({ ok: true });
    const bound = await forwardFrom(proxy.address.port, A, 'http://other.test/data', {
      authorization: `Bearer ${PLACEHOLDER}`,
    });
    expect(bound.status).toBe(200);
    expect(upstream.seen.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`);
    const elsewhere = await forwardFrom(proxy.address.port, A, 'http://allowed.test/data', {
      authorization: `Bearer ${PLACEHOLDER}`,
    });
    expect(elsewhere.status).toBe(403);
    expect(upstream.seen.at(-1)?.headers.host).toBe('other.test');

    const refused = await waitFor('credential event', () =>
      gateway.decisions.find((d) => d.host === 'allowed.test' && d.policyVersion === 3),
    );
    expect(refused).toMatchObject({
      action: Action.ACTION_DENY,
      layer: DecisionLayer.DECISION_LAYER_CREDENTIAL,
      denialCode: 'credential_endpoint_mismatch',
      method: 'GET',
      path: '/data',
    });
    const forwarded = await waitFor('L7 allow event', () =>
      gateway.decisions.find((d) => d.host === 'other.test' && d.method === 'GET'),
    );
    expect(forwarded).toMatchObject({ action: Action.ACTION_ALLOW, path: '/data' });
    const wire = JSON.stringify(gateway.decisions);
    expect(wire).not.toContain(SECRET);
    expect(wire).not.toContain('openshell:resolve:env');
    expect(warnings.join('\n')).not.toContain(SECRET);
    expect(warnings.join('\n')).not.toContain(TOKEN);
  });

  test('remove → that sandbox is denied, the other still allowed', async () => {
    expect(await status(B, 'other.test:80')).toBe(200);
    gateway.push({ payload: { $case: 'remove', value: { sandboxId: 'sb-b' } } });
    await waitFor('sb-b removed', async () => (await status(B, 'other.test:80')) === 403);
    expect(await status(A, 'other.test:80')).toBe(200);
  });

  test('a full set that omits a sandbox drops it', async () => {
    gateway.push({ payload: { $case: 'upsert', value: sandboxB(2) } });
    await ackOf('sb-b', 2);
    expect(await status(B, 'other.test:80')).toBe(200);
    const from = gateway.acks.length;
    const current = sandboxA(3, ['other.test', 'allowed.test']);
    gateway.push({ payload: { $case: 'sandboxSet', value: { sandboxes: [current] } } });
    await ackOf('sb-a', 3, from);
    expect(await status(B, 'other.test:80')).toBe(403);
    expect(await status(A, 'other.test:80')).toBe(200);
  });

  test('inference routes are applied; an invalid set is refused and the previous one kept', async () => {
    const ask = () =>
      inferenceFrom(proxy.address.port, A, proxy.caCertPem, '/v1/chat/completions', {
        messages: [{ role: 'user', content: 'hello' }],
      });
    expect((await ask()).status).not.toBe(200);
    gateway.push({
      payload: {
        $case: 'inferenceRoutes',
        value: {
          routes: [
            {
              name: 'local',
              kind: InferenceRouteKind.INFERENCE_ROUTE_KIND_LOCAL,
              baseUrl: `http://127.0.0.1:${model.port}/v1`,
              api: InferenceApiShape.INFERENCE_API_SHAPE_OPENAI,
              model: 'llama-local',
              apiKey: ROUTE_KEY,
            },
          ],
        },
      },
    });
    await waitFor('route in force', async () => (await ask()).status === 200);
    expect(model.seen.at(-1)?.headers.authorization).toBe(`Bearer ${ROUTE_KEY}`);
    expect(JSON.parse(model.seen.at(-1)?.body ?? '{}')).toMatchObject({ model: 'llama-local' });

    gateway.push({
      payload: {
        $case: 'inferenceRoutes',
        value: {
          routes: [
            {
              name: 'broken',
              kind: InferenceRouteKind.INFERENCE_ROUTE_KIND_UNSPECIFIED,
              baseUrl: `http://127.0.0.1:${model.port}/v1`,
              api: InferenceApiShape.INFERENCE_API_SHAPE_OPENAI,
              model: 'x',
              apiKey: 'never-logged-key',
            },
          ],
        },
      },
    });
    const warning = await waitFor('route refusal warning', () =>
      warnings.find((w) => w.includes('inference routes from the gateway not applied')),
    );
    expect(warning).toContain('broken');
    expect(warning).not.toContain('never-logged-key');
    expect((await ask()).status).toBe(200);
  });

  test('gateway down: last policies keep enforcing; on restart hello, resync, buffered events delivered', async () => {
    const hellos = gateway.hellos.length;
    const streams = gateway.streams.length;
    await gateway.stop();
    await waitFor('disconnect noticed', () => !control.connected());
    // Both directions hold while the gateway is away.
    expect(await status(A, 'other.test:80')).toBe(200);
    expect(await status(A, 'outage.test:80')).toBe(403);
    expect(gateway.decisions.some((d) => d.host === 'outage.test')).toBe(false);

    gateway.desired = [sandboxA(4, ['allowed.test'])];
    await gateway.start();
    await waitFor('hello after restart', () => gateway.hellos.length > hellos, 10_000);
    expect(gateway.streams[streams]?.[0]).toBe('hello');
    expect(await ackOf('sb-a', 4)).toMatchObject({ ok: true });
    const late = await waitFor('event from the outage', () =>
      gateway.decisions.find((d) => d.host === 'outage.test'),
    );
    expect(late).toMatchObject({ sandboxId: 'sb-a', action: Action.ACTION_DENY, policyVersion: 3 });
    expect(control.connected()).toBe(true);
    expect(control.eventsDropped).toBe(0);
    expect(await status(A, 'allowed.test:80')).toBe(200);
    expect(await status(A, 'other.test:80')).toBe(403);
    expect(warnings.some((w) => w.includes('reconnected to the gateway'))).toBe(true);
  });
});

describe('ordering', () => {
  test('back-to-back upserts are applied and acked in order; the last one decides', async () => {
    const from = gateway.acks.length;
    gateway.push({ payload: { $case: 'upsert', value: sandboxA(5, ['other.test']) } });
    gateway.push({ payload: { $case: 'upsert', value: sandboxA(6, ['allowed.test']) } });
    await ackOf('sb-a', 6, from);
    expect(gateway.acks.slice(from).map((a) => [a.version, a.ok])).toEqual([
      [5, true],
      [6, true],
    ]);
    expect(await status(A, 'allowed.test:80')).toBe(200);
    expect(await status(A, 'other.test:80')).toBe(403);
  });
});

describe('a proxy the gateway refuses', () => {
  let other: Proxy;
  let otherDir: string;

  beforeAll(async () => {
    otherDir = mkdtempSync(join(tmpdir(), 'proxy-control-refused-'));
    other = await createProxy(
      {
        stateDir: otherDir,
        resolveOverrides: [`allowed.test:80=127.0.0.1:${upstream.port}`],
      },
      { warn: () => undefined },
    );
    // Set directly, as a restored policy would be: it must keep working whatever the stream does.
    const ack = await other.setSandbox({
      id: 'local',
      sourceAddresses: [LOCAL],
      policy: policy(['allowed.test']),
      version: 1,
    });
    expect(ack.ok).toBe(true);
  });

  afterAll(async () => {
    await other.close();
    rmSync(otherDir, { recursive: true, force: true });
  });

  const connectOther = (
    override: { token?: string; serverName?: string },
    logs: string[],
    maxBufferedEvents?: number,
  ): ProxyControl =>
    connectProxyControl(
      other,
      {
        address: gateway.address,
        caPem: gateway.caPem,
        token: override.token ?? TOKEN,
        listenAddress: `127.0.0.1:${other.address.port}`,
        ...(override.serverName === undefined ? {} : { serverName: override.serverName }),
        ...(maxBufferedEvents === undefined ? {} : { maxBufferedEvents }),
      },
      { warn: (m) => logs.push(m) },
    );

  test.for([
    // A refused token reaches the service on every retry; a certificate for another name
    // fails the TLS handshake, so the service never sees a call.
    ['a wrong token', { token: 'wrong-token-1' }, 'UNAUTHENTICATED', [3, Infinity]],
    ['a certificate for another name', { serverName: 'wrong.test' }, 'UNAVAILABLE', [0, 0]],
  ] as ReadonlyArray<
    readonly [string, { token?: string; serverName?: string }, string, readonly [number, number]]
  >)(
    '%s: logged once, retried, never connected, proxy keeps enforcing',
    async ([, override, code, [least, most]]) => {
      const logs: string[] = [];
      const attempts = gateway.attempts();
      const refused = connectOther(override, logs);
      try {
        await waitFor(`${code} warning`, () => logs.find((l) => l.includes(code)));
        await waitFor('retries', () => gateway.attempts() - attempts >= least);
        // Leaves room for a few more attempts (100, 200, 400 ms of backoff).
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(gateway.attempts() - attempts).toBeLessThanOrEqual(most);
        expect(logs.filter((l) => l.includes(code))).toHaveLength(1);
        expect(refused.connected()).toBe(false);
        expect(logs.join('\n')).not.toContain(override.token ?? TOKEN);
        expect(await connectStatus(other.address.port, LOCAL, 'allowed.test:80')).toBe(200);
        expect(await connectStatus(other.address.port, LOCAL, 'other.test:80')).toBe(403);
      } finally {
        await refused.close();
      }
    },
  );

  test('retries back off exponentially from 100 ms to a 5 s cap; health repeats at its interval', async () => {
    const logs: string[] = [];
    const token = 'late-token-3';
    const delays: number[] = [];
    const healthsBefore = gateway.healths.length;
    // The requested delays are recorded, then compressed to 5 ms so the test does not wait them out.
    const refused = connectProxyControl(
      other,
      {
        address: gateway.address,
        caPem: gateway.caPem,
        token,
        listenAddress: `127.0.0.1:${other.address.port}`,
      },
      {
        warn: (m) => logs.push(m),
        setTimeout(callback, ms) {
          delays.push(ms);
          const timer = setTimeout(callback, 5);
          return () => clearTimeout(timer);
        },
      },
    );
    try {
      await waitFor('nine retries', () => delays.filter((d) => d !== 10_000).length >= 9);
      const retries = delays.filter((d) => d !== 10_000);
      expect(retries.slice(0, 9)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
      expect(delays).toContain(10_000);
      gateway.tokens.add(token);
      await waitFor('connected', () => refused.connected());
      // Compressed 10 s interval: several reports arrive while connected.
      await waitFor('repeated health', () => gateway.healths.length >= healthsBefore + 4);
    } finally {
      await refused.close();
      gateway.tokens.delete(token);
    }
  });

  test('events from a refused period are buffered (bounded, drops counted) and sent once let in', async () => {
    const logs: string[] = [];
    const token = 'late-token-2';
    const refused = connectOther({ token }, logs, 2);
    try {
      await waitFor('refusal', () => logs.find((l) => l.includes('UNAUTHENTICATED')));
      for (const n of [1, 2, 3, 4])
        expect(await connectStatus(other.address.port, STRANGER, `d${n}.test:80`)).toBe(403);
      expect(refused.eventsDropped).toBe(2);
      gateway.tokens.add(token);
      await waitFor('connected', () => refused.connected(), 10_000);
      const health = await waitFor('health with drops', () =>
        gateway.healths.find((h) => h.eventsDropped === 2),
      );
      expect(health.decisionsTotal).toBeGreaterThanOrEqual(4);
      await waitFor('newest buffered events', () =>
        ['d3.test', 'd4.test'].every((h) => gateway.decisions.some((d) => d.host === h)),
      );
      expect(gateway.decisions.some((d) => d.host === 'd1.test' || d.host === 'd2.test')).toBe(
        false,
      );
    } finally {
      await refused.close();
      gateway.tokens.delete(token);
    }
  });
});

describe('openshell-proxy --gateway', () => {
  let dir: string;
  let tokenFile: string;
  let caFile: string;

  beforeAll(() => {
    if (!existsSync(BIN))
      throw new Error(`${BIN} is missing: run "pnpm --filter @openshell/proxy build" first`);
    dir = mkdtempSync(join(tmpdir(), 'proxy-control-bin-'));
    tokenFile = join(dir, 'token');
    caFile = join(dir, 'gateway-ca.pem');
    writeFileSync(caFile, gateway.caPem);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const args = (extra: readonly string[] = []): string[] => [
    BIN,
    '--listen',
    '127.0.0.1:0',
    '--state-dir',
    join(dir, 'state'),
    '--gateway',
    gateway.address,
    '--gateway-ca',
    caFile,
    '--gateway-token-file',
    tokenFile,
    ...extra,
  ];

  test.for([
    [
      'a token file of mode 0644',
      0o644,
      0,
      [],
      'has mode 0644, readable or writable by other users; run chmod 600',
    ],
    ['a token file owned by another user', 0o600, 4321, [], 'is owned by uid 4321'],
    ['--policy beside --gateway', 0o600, 0, ['--policy', '/dev/null'], 'mutually exclusive'],
  ] as const)(
    'refuses %s with a clear message (exit 2)',
    async ([, mode, owner, extra, message]) => {
      writeFileSync(tokenFile, `${TOKEN}\n`);
      chmodSync(tokenFile, mode);
      chownSync(tokenFile, owner, owner);
      const r = await run(process.execPath, args(extra));
      expect(r.exitCode).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain(TOKEN);
    },
  );

  test('--gateway-ca without --gateway is refused', async () => {
    const r = await run(process.execPath, [BIN, '--listen', '127.0.0.1:0', '--gateway-ca', caFile]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--gateway-ca needs --gateway HOST:PORT');
  });

  test('positive control: a 0600 token file starts, prints one JSON line, syncs, exits 0 on SIGTERM', async () => {
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    chownSync(tokenFile, 0, 0);
    const hellos = gateway.hellos.length;
    const acks = gateway.acks.length;
    const child = spawn(process.execPath, args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const line = await waitFor('listening line', () => stdout.includes('\n') && stdout);
      const started = JSON.parse(line.trim()) as { event: string; address: string };
      expect(started.event).toBe('listening');
      const hello = await waitFor('bin hello', () => gateway.hellos.slice(hellos)[0]);
      expect(hello.listenAddress).toBe(started.address);
      await ackOf('sb-a', 4, acks);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
