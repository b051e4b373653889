// The gateway daemon end to end, over its real API: real driver, agent, launcher and egress
// proxy process; "the internet" is a loopback HTTPS server the proxy reaches through resolve
// overrides while policies still name example.com. Each deny sits beside its positive control.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Metadata, credentials, status } from '@grpc/grpc-js';
import { OpenShellClient, PolicyStatus, SandboxPhase, type Sandbox } from '@openshell/proto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listHostObjects } from '../src/drivers/local/test-helpers/list-host-objects.js';
import { startFakeInternet, type FakeInternet } from './helpers/fake-internet.js';
import { createSandbox, execIn, waitPhase } from './helpers/sandbox-calls.js';
import { createTestDaemon, grpcDetails, type TestDaemon } from './helpers/test-daemon.js';

const NAMES = {
  prefix: 'gwd',
  serviceAddress: '10.239.20.1',
  pool: '10.239.21.0/24',
  uidBase: 239_210,
};

const EXAMPLE_READ_ONLY = `version: 1
network_policies:
  example_site:
    name: example-site
    endpoints:
      - host: example.com
        port: 443
        access: read-only
    binaries:
      - path: /usr/bin/curl
`;

let daemon: TestDaemon;
let net: FakeInternet;
let scratch: string;

function curl(...args: string[]): string[] {
  return ['/usr/bin/curl', '-sS', '--max-time', '10', ...args];
}

beforeAll(async () => {
  scratch = await mkdtemp('/var/tmp/openshell-gwd-net-');
  net = await startFakeInternet(scratch, ['example.com', 'other.example.net']);
  daemon = await createTestDaemon(NAMES, {
    resolve: [
      `example.com:443=127.0.0.1:${String(net.port)}`,
      `other.example.net:443=127.0.0.1:${String(net.port)}`,
    ],
    upstreamCa: net.caFile,
  });
  await daemon.start();
}, 60_000);

afterAll(async () => {
  await daemon.cleanup();
  await net.close();
  await rm(scratch, { recursive: true, force: true });
}, 60_000);

describe('lifecycle and policy over the API', () => {
  test('create → Ready; exec runs as the sandbox user in /sandbox with stdin and exit codes', async () => {
    await createSandbox(daemon, { name: 'demo' });
    const ready = await waitPhase(daemon, 'demo', SandboxPhase.SANDBOX_PHASE_READY);
    expect(ready.currentPolicyVersion).toBe(1);
    const pwd = await execIn(daemon, 'demo', ['sh', '-c', 'pwd; id -un']);
    expect(pwd).toMatchObject({ code: 0, stdout: '/sandbox\nsandbox\n' });
    const cat = await execIn(daemon, 'demo', ['sh', '-c', 'cat; exit 7'], 'from stdin');
    expect(cat).toMatchObject({ code: 7, stdout: 'from stdin' });
  });

  test('default policy: CONNECT to example.com is refused by the proxy (403), not by routing', async () => {
    const result = await execIn(
      daemon,
      'demo',
      curl('-o', '/dev/null', '-w', '%{http_code}', 'https://example.com/some-path'),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('CONNECT tunnel failed, response 403');
  });

  test('policy set → Loaded by both sides; the same curl then succeeds and POST gets the L7 403', async () => {
    const set = await daemon.call<{
      revision: {
        version: number;
        status: PolicyStatus;
        proxyAckedAtMs?: number;
        agentAckedAtMs?: number;
      };
      unchanged: boolean;
    }>('setPolicy', {
      sandbox: 'demo',
      yaml: EXAMPLE_READ_ONLY,
      fileName: 'current.yaml',
      wait: true,
      timeoutMs: 20_000,
    });
    expect(set.unchanged).toBe(false);
    expect(set.revision).toMatchObject({ version: 2, status: PolicyStatus.POLICY_STATUS_LOADED });
    expect(set.revision.proxyAckedAtMs).toBeGreaterThan(0);
    expect(set.revision.agentAckedAtMs).toBeGreaterThan(0);
    const get = await execIn(daemon, 'demo', curl('https://example.com/some-path'));
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({
      method: 'GET',
      host: 'example.com',
      path: '/some-path',
    });
    const post = await execIn(daemon, 'demo', curl('-X', 'POST', 'https://example.com/some-path'));
    expect(JSON.parse(post.stdout)).toMatchObject({
      error: 'policy_denied',
      policy: 'example-site',
      method: 'POST',
      path: '/some-path',
      host: 'example.com',
    });
    const sandbox = (await daemon.call<{ sandbox: Sandbox }>('getSandbox', { sandbox: 'demo' }))
      .sandbox;
    expect(sandbox.currentPolicyVersion).toBe(2);
  });

  test('an identical re-push keeps the version; revisions list newest first with statuses', async () => {
    const again = await daemon.call<{ revision: { version: number }; unchanged: boolean }>(
      'setPolicy',
      {
        sandbox: 'demo',
        yaml: EXAMPLE_READ_ONLY,
        wait: true,
      },
    );
    expect(again).toMatchObject({ unchanged: true, revision: { version: 2 } });
    const list = await daemon.call<{
      revisions: { version: number; status: PolicyStatus }[];
      activeVersion: number;
    }>('listPolicyRevisions', { sandbox: 'demo' });
    expect(list.activeVersion).toBe(2);
    expect(list.revisions.map((r) => [r.version, r.status])).toEqual([
      [2, PolicyStatus.POLICY_STATUS_LOADED],
      [1, PolicyStatus.POLICY_STATUS_LOADED],
    ]);
  });

  test('a filesystem change is refused naming the field; nothing is stored (positive control: the network change above)', async () => {
    const yaml = `${EXAMPLE_READ_ONLY}filesystem_policy:\n  read_only: [/usr, /lib, /etc, /proc, /dev/urandom, /opt]\n  read_write: [/sandbox, /tmp, /dev/null]\n`;
    const error = await daemon
      .call('setPolicy', { sandbox: 'demo', yaml, wait: false })
      .catch((e: unknown) => e);
    expect(grpcDetails(error)).toMatchObject({
      code: status.INVALID_ARGUMENT,
      openshellCode: 'ERR_POLICY_STATIC_CHANGE',
    });
    expect(grpcDetails(error).details).toContain('filesystem_policy');
    expect(grpcDetails(error).details).toContain('recreate the sandbox');
    const list = await daemon.call<{ revisions: unknown[] }>('listPolicyRevisions', {
      sandbox: 'demo',
    });
    expect(list.revisions).toHaveLength(2);
  });

  test('an invalid policy is refused with file:line:col diagnostics', async () => {
    const error = await daemon
      .call('setPolicy', {
        sandbox: 'demo',
        yaml: 'version: 1\nnetwork_policies:\n  x:\n    endpoints: [{ host: "*", port: 443 }]\n',
        fileName: 'bad.yaml',
      })
      .catch((e: unknown) => e);
    expect(grpcDetails(error).openshellCode).toBe('ERR_POLICY_INVALID');
    expect(grpcDetails(error).details).toMatch(/bad\.yaml:\d+:\d+/);
  });

  test('logs carry the deny and the allow, with binary, host and rule', async () => {
    const logs = await daemon.call<{
      entries: {
        event?: {
          $case: string;
          value: { action?: number; binary?: string; host?: string; method?: string };
        };
      }[];
    }>('getLogs', { filter: { sandbox: 'demo', sources: [] } });
    const decisions = logs.entries
      .filter((e) => e.event?.$case === 'decision')
      .map((e) => e.event?.value);
    expect(decisions).toContainEqual(
      expect.objectContaining({ action: 2, binary: '/usr/bin/curl', host: 'example.com' }),
    );
    expect(decisions).toContainEqual(
      expect.objectContaining({
        action: 1,
        binary: '/usr/bin/curl',
        host: 'example.com',
        method: 'GET',
      }),
    );
    const lifecycle = logs.entries.filter((e) => e.event?.$case === 'lifecycle');
    expect(lifecycle.length).toBeGreaterThanOrEqual(3);
  });

  test('unknown sandbox → NOT_FOUND with the catalogue code', async () => {
    const error = await daemon.call('getSandbox', { sandbox: 'nope' }).catch((e: unknown) => e);
    expect(grpcDetails(error)).toMatchObject({
      code: status.NOT_FOUND,
      openshellCode: 'ERR_SANDBOX_NOT_FOUND',
    });
  });
});

describe('main process', () => {
  test('a main process exiting moves the sandbox to Error with its exit code', async () => {
    await createSandbox(daemon, { name: 'short', command: ['sh', '-c', 'exit 7'] });
    const failed = await waitPhase(daemon, 'short', SandboxPhase.SANDBOX_PHASE_ERROR);
    expect(failed.mainExit?.code).toBe(7);
    expect(failed.phaseReason).toContain('exited with code 7');
    await daemon.call('deleteSandbox', { sandbox: 'short' });
  });

  test('with delete_on_exit the sandbox is deleted when its main process ends', async () => {
    await createSandbox(daemon, { name: 'oneshot', command: ['true'], deleteOnExit: true });
    const deadline = Date.now() + 30_000;
    let gone = false;
    while (!gone && Date.now() < deadline) {
      gone = await daemon.call('getSandbox', { sandbox: 'oneshot' }).then(
        () => false,
        () => true,
      );
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(gone).toBe(true);
  });
});

describe('providers', () => {
  test('a placeholder is swapped only for the bound host; elsewhere 403 credential_endpoint_mismatch', async () => {
    await daemon.call('createProvider', {
      name: 'site-token',
      type: 'generic',
      credentials: { SITE_TOKEN: 'sekret-value-4242' },
      allowedHosts: ['example.com'],
    });
    const policy = `version: 1
network_policies:
  sites:
    name: sites
    endpoints:
      - { host: example.com, port: 443, access: read-only }
      - { host: other.example.net, port: 443, access: read-only }
    binaries:
      - path: /usr/bin/curl
`;
    await createSandbox(daemon, { name: 'creds', policyYaml: policy, providers: ['site-token'] });
    await waitPhase(daemon, 'creds', SandboxPhase.SANDBOX_PHASE_READY);
    const env = await execIn(daemon, 'creds', ['sh', '-c', 'printf %s "$SITE_TOKEN"']);
    expect(env.stdout).toBe('openshell:resolve:env:SITE_TOKEN');
    const bound = await execIn(daemon, 'creds', [
      'sh',
      '-c',
      'curl -sS -H "Authorization: Bearer $SITE_TOKEN" https://example.com/me',
    ]);
    expect(JSON.parse(bound.stdout)).toMatchObject({ authorization: 'Bearer sekret-value-4242' });
    const before = net.requests.length;
    const other = await execIn(daemon, 'creds', [
      'sh',
      '-c',
      'curl -sS -H "Authorization: Bearer $SITE_TOKEN" https://other.example.net/me',
    ]);
    expect(JSON.parse(other.stdout)).toMatchObject({ error: 'credential_endpoint_mismatch' });
    expect(net.requests.slice(before).some((r) => r.host.startsWith('other.example.net'))).toBe(
      false,
    );
    // Positive control for the second host: without the placeholder the request goes through.
    const plain = await execIn(daemon, 'creds', curl('https://other.example.net/plain'));
    expect(JSON.parse(plain.stdout)).toMatchObject({
      host: 'other.example.net',
      authorization: '',
    });
    const listed = JSON.stringify(await daemon.call('listProviders', {}));
    expect(listed).toContain('SITE_TOKEN');
    expect(listed).not.toContain('sekret-value-4242');
    const logs = JSON.stringify(await daemon.call('getLogs', { filter: { sources: [] } }));
    expect(logs).not.toContain('sekret-value-4242');
  });
});

describe('security of the API', () => {
  test('a client without a certificate, or with one from another CA, is refused (positive control: status works)', async () => {
    const ca = await readFile(daemon.paths.clientCa);
    const anonymous = new OpenShellClient(
      `127.0.0.1:${String(daemon.ports.api)}`,
      credentials.createSsl(ca),
    );
    const refused = await new Promise((resolve) => {
      anonymous.getStatus({}, new Metadata(), { deadline: Date.now() + 5000 }, (error) =>
        resolve(error),
      );
    });
    anonymous.close();
    expect(refused).toMatchObject({ code: status.UNAVAILABLE });
    const ok = await daemon.call<{ authMode: string; proxyConnected: boolean }>('getStatus', {});
    expect(ok).toMatchObject({ authMode: 'mtls', proxyConnected: true });
  });

  test('state files are private: database, secret key, PKI keys 0600', async () => {
    const { stat } = await import('node:fs/promises');
    for (const file of [daemon.paths.dbFile, daemon.paths.secretKeyFile, daemon.paths.clientKey]) {
      expect(((await stat(file)).mode & 0o777).toString(8), file).toBe('600');
    }
  });

  test('health, readiness and metrics answer on the HTTP port', async () => {
    const base = `http://127.0.0.1:${String(daemon.ports.http)}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/openshell_sandboxes\{phase="Ready"\} [1-9]/);
    expect(metrics).toContain('openshell_proxy_connected 1');
  });
});

describe('gateway crash', () => {
  test('SIGKILL mid-run loses no sandbox, revision or event, and the proxy keeps enforcing meanwhile', async () => {
    const probe =
      'while true; do curl -s -o /dev/null -w "%{http_code}\\n" --max-time 5 https://example.com/ok >> /sandbox/allowed.log; curl -s -o /dev/null -w "%{http_connect}\\n" --max-time 5 https://other.example.net/x >> /sandbox/denied.log; sleep 0.3; done';
    const sandbox = await createSandbox(daemon, {
      name: 'steady',
      policyYaml: EXAMPLE_READ_ONLY,
      command: ['sh', '-c', probe],
    });
    await waitPhase(daemon, 'steady', SandboxPhase.SANDBOX_PHASE_READY);
    const revisionsBefore = await daemon.call('listPolicyRevisions', { sandbox: 'steady' });
    await daemon.kill('SIGKILL');
    const workspace = join(daemon.paths.driverDir, 'workspaces', sandbox.id);
    const countLines = async (file: string) =>
      (await readFile(join(workspace, file), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    const allowedAtKill = (await countLines('allowed.log')).length;
    await new Promise((r) => setTimeout(r, 2500));
    const allowed = await countLines('allowed.log');
    const denied = await countLines('denied.log');
    // While the gateway is dead, requests keep being decided: allowed ones pass, others 403.
    expect(allowed.length).toBeGreaterThan(allowedAtKill);
    expect(new Set(allowed)).toEqual(new Set(['200']));
    expect(new Set(denied)).toEqual(new Set(['403']));
    await daemon.start();
    const after = await daemon.call<{ sandbox: Sandbox }>('getSandbox', { sandbox: 'steady' });
    expect(after.sandbox.phase).toBe(SandboxPhase.SANDBOX_PHASE_READY);
    expect(await daemon.call('listPolicyRevisions', { sandbox: 'steady' })).toEqual(
      revisionsBefore,
    );
    const demo = await execIn(daemon, 'demo', ['true']);
    expect(demo.code).toBe(0);
    // Decisions made while the gateway was down reach its log once the proxy reconnects.
    const deadline = Date.now() + 15_000;
    let count = 0;
    while (Date.now() < deadline) {
      const logs = await daemon.call<{
        entries: { event?: { $case: string; value: { timeMs: number } } }[];
      }>('getLogs', { filter: { sandbox: 'steady', sources: [], limit: 1000 } });
      count = logs.entries.filter((e) => e.event?.$case === 'decision').length;
      if (count >= allowed.length + denied.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(count).toBeGreaterThanOrEqual(allowed.length + denied.length);
  }, 90_000);
});

describe('deletion', () => {
  test('delete frees everything on the host, then the name is free again', async () => {
    const list = await daemon.call<{ sandboxes: Sandbox[] }>('listSandboxes', {
      labelSelector: {},
    });
    for (const sandbox of list.sandboxes)
      await daemon.call('deleteSandbox', { sandbox: sandbox.name });
    expect(
      (await daemon.call<{ sandboxes: Sandbox[] }>('listSandboxes', { labelSelector: {} }))
        .sandboxes,
    ).toEqual([]);
    const fixture = {
      options: {
        namePrefix: NAMES.prefix,
        cgroupParent: `openshell-test-${NAMES.prefix}`,
        stateDir: daemon.paths.driverDir,
      },
      uidRange: [NAMES.uidBase, NAMES.uidBase + 64] as const,
    };
    const objects = await listHostObjects(
      fixture as unknown as Parameters<typeof listHostObjects>[0],
    );
    expect(objects).toEqual({
      netns: [],
      links: [],
      firewall: [],
      mounts: [],
      cgroups: [],
      processes: [],
      leases: [],
      files: [],
    });
    await createSandbox(daemon, { name: 'demo' });
    await waitPhase(daemon, 'demo', SandboxPhase.SANDBOX_PHASE_READY);
  });
});
