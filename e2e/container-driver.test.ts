// Issue #8: the docker compute driver against the Podman socket this machine has, as a user
// drives it: `openshell gateway start` with OPENSHELL_DRIVER=docker, sandboxes created from a
// locally built image (nothing is ever pulled), the seed walkthrough (create, exec, policy set
// hot reload with allowed and denied egress, delete leaving no container, netns or veth), and
// the local escape battery's attempts run inside a container. testcontainers checks the engine
// and builds the image. Root, the engine and the kernel features are required: a missing one
// fails these tests, it never skips them.
import { appendFile, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GenericContainer, getContainerRuntimeClient } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  freePort,
  hostObjects,
  isolatedEnv,
  run,
  runOpenshell,
  type CliResult,
  EXAMPLE_SITE_POLICY,
} from './helpers/isolated-gateway.js';
import { startLoopbackSite, type LoopbackSite } from './helpers/loopback-site.js';
import { PROBE_IN_IMAGE, writeTestImageContext } from './helpers/test-image.js';

const NAMES = {
  prefix: 'edk',
  serviceAddress: '10.239.38.1',
  pool: '10.239.39.0/24',
  uidBase: 239_390,
};
const SOCKET = '/run/podman/podman.sock';
const IMAGE = 'localhost/openshell-e2e-edk:test';
const OWNER_LABEL = 'io.openshell.owner';
// testcontainers reads these when it first looks for an engine: this machine's Podman socket,
// no Ryuk reaper container (it would need a registry pull), loopback as the container host.
process.env['DOCKER_HOST'] = `unix://${SOCKET}`;
process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
process.env['TESTCONTAINERS_HOST_OVERRIDE'] = '127.0.0.1';

let dir: string;
let imageContext: string;
let env: NodeJS.ProcessEnv;
let site: LoopbackSite;
let gatewayArgs: string[];

function openshell(args: readonly string[]): Promise<CliResult> {
  return runOpenshell(env, dir, args, 120_000);
}
const exec = (argv: readonly string[], name = 'demo'): Promise<CliResult> =>
  openshell(['sandbox', 'exec', '-n', name, '--', ...argv]);
const sh = (script: string): Promise<CliResult> => exec(['sh', '-c', script]);
const probe = (...args: string[]): Promise<CliResult> => exec([PROBE_IN_IMAGE, ...args]);
const show = (result: CliResult): string => JSON.stringify(result);

/** Containers of this file's gateway still known to the engine (any state). */
async function ourContainers(): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [OWNER_LABEL] }));
  const { stdout } = await run('curl', [
    ...['-sf', '--unix-socket', SOCKET],
    `http://engine/containers/json?all=true&filters=${filters}`,
  ]);
  const list = JSON.parse(stdout) as { Names: string[]; Labels: Record<string, string> }[];
  return list
    .filter((c) => (c.Labels[OWNER_LABEL] ?? '').startsWith(`${NAMES.prefix}:${dir}`))
    .map((c) => c.Names.join(','));
}

beforeAll(async () => {
  dir = await mkdtemp('/var/tmp/openshell-e2e-edk-');
  imageContext = join(dir, 'image');
  await writeTestImageContext(imageContext);
  const engine = await getContainerRuntimeClient();
  const runtime = engine.info.containerRuntime;
  expect(runtime.remoteSocketPath, 'testcontainers found the Podman socket').toBe(SOCKET);
  expect(String(runtime.serverVersion), 'the engine answered /info').toMatch(/^\d/);
  await GenericContainer.fromDockerfile(imageContext).build(IMAGE, { deleteOnExit: false });
  site = await startLoopbackSite(dir);
  const resolve = `example.com:443=127.0.0.1:${String(site.port)}`;
  env = await isolatedEnv(dir, NAMES, {
    NO_COLOR: '1',
    OPENSHELL_DRIVER: 'docker',
    DOCKER_HOST: `unix://${SOCKET}`,
    OPENSHELL_PROXY_RESOLVE: resolve,
    OPENSHELL_PROXY_UPSTREAM_CA: site.caFile,
  });
  gatewayArgs = [
    ...['gateway', 'start', '--port', String(await freePort())],
    ...['--http-port', String(await freePort()), '--resolve', resolve],
    ...['--upstream-ca', site.caFile],
  ];
  const started = await openshell(gatewayArgs);
  expect(started.code, started.stderr).toBe(0);
}, 240_000);

afterAll(async () => {
  if (env !== undefined) {
    await openshell(['sandbox', 'delete', '--all']);
    await openshell(['gateway', 'stop']);
  }
  await site?.close();
  await run('ip', ['addr', 'del', `${NAMES.serviceAddress}/32`, 'dev', 'lo']).catch(() => 0);
  await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('the seed walkthrough through the docker driver', () => {
  test('the gateway runs the docker driver on the Podman engine', async () => {
    const status = await openshell(['status']);
    expect(status.stdout, show(status)).toMatch(/Status:\s+Connected/);
    const logs = await openshell(['gateway', 'logs']);
    expect(logs.stdout, show(logs)).toMatch(/docker driver: Podman Engine \d+\.\d+/);
  });

  test('create: the first command runs in /sandbox as the sandbox user, in a container', async () => {
    const created = await openshell([
      ...['sandbox', 'create', '--name', 'demo', '--from', IMAGE, '--'],
      ...['sh', '-c', 'pwd; id -un; cat /proc/1/cmdline | tr "\\0" " "'],
    ]);
    expect(created.code, show(created)).toBe(0);
    const [pwd, user, init] = created.stdout.split('\n');
    expect(pwd).toBe('/sandbox');
    expect(user).toBe('sandbox');
    expect(init, 'PID 1 is the engine init (catatonit), not bubblewrap').toContain('podman-init');
    expect(await ourContainers()).toHaveLength(1);
  });

  test('exec runs in the same container; the image (not the host) is the root', async () => {
    const out = await exec(['cat', '/etc/os-release']);
    expect(out.code, show(out)).toBe(0);
    expect(out.stdout).toContain('ID=openshell-e2e');
  });

  test('policy set hot reload: denied, then allowed for curl, L7 still denies POST', async () => {
    const denied = await exec(['curl', '-sS', '-I', 'https://example.com/seed']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/CONNECT tunnel failed, response 403|HTTP code 403/);
    expect(site.received).toHaveLength(0);

    const full = await openshell(['policy', 'get', 'demo', '--full']);
    await writeFile(join(dir, 'current.yaml'), full.stdout);
    await appendFile(join(dir, 'current.yaml'), EXAMPLE_SITE_POLICY);
    const set = await openshell(['policy', 'set', 'demo', '--policy', 'current.yaml', '--wait']);
    expect(set.code, show(set)).toBe(0);

    const allowed = await exec(['curl', '-sS', 'https://example.com/seed']);
    expect(allowed.code, show(allowed)).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ ok: true, method: 'GET', path: '/seed' });

    const post = await exec(['curl', '-sS', '-X', 'POST', 'https://example.com/seed']);
    expect(JSON.parse(post.stdout)).toMatchObject({ error: 'policy_denied', method: 'POST' });
    expect(site.received.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  test('binary identity reaches the proxy: the same curl under another path is denied', async () => {
    const before = site.received.length;
    const out = await sh(
      'cp /usr/bin/curl /sandbox/other-curl && /sandbox/other-curl -sS https://example.com/copy',
    );
    expect(out.code, show(out)).not.toBe(0);
    expect(out.stderr).toMatch(/CONNECT tunnel failed, response 403|HTTP code 403/);
    expect(site.received.length).toBe(before);
    const logs = await openshell(['logs', 'demo']);
    // The proxy named the copy by its path inside the container (host /proc via the netns pid).
    expect(logs.stdout).toMatch(
      /DENY .*\/sandbox\/other-curl\(\d+\) → example\.com:443 .*binary \/sandbox\/other-curl .*is not listed/,
    );
    expect(logs.stdout).toMatch(/ALLOW .*\/usr\/bin\/curl\(\d+\) → example\.com:443/);
  });
});

describe('a gateway restart', () => {
  test('the container outlives the gateway; the new one reattaches and execs in it', async () => {
    const before = await ourContainers();
    expect(before).toHaveLength(1);
    const stopped = await openshell(['gateway', 'stop']);
    expect(stopped.code, show(stopped)).toBe(0);
    expect(await ourContainers(), 'the sandbox keeps running without a gateway').toEqual(before);
    const started = await openshell(gatewayArgs);
    expect(started.code, show(started)).toBe(0);
    const out = await exec(['sh', '-c', 'echo back; id -un']);
    expect(out, show(out)).toMatchObject({ code: 0, stdout: 'back\nsandbox\n' });
  });
});

describe('escape attempts inside the container (the local battery, same attempts)', () => {
  test('the session has no capabilities, no_new_privs, seccomp, and the sandbox uid', async () => {
    const out = await sh('id -u; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status');
    expect(out.code, show(out)).toBe(0);
    const [uid, ...rest] = out.stdout.trim().split('\n');
    expect(Number(uid)).toBeGreaterThanOrEqual(NAMES.uidBase);
    expect(rest).toEqual([
      'CapEff:\t0000000000000000',
      'CapBnd:\t0000000000000000',
      'NoNewPrivs:\t1',
      'Seccomp:\t2',
    ]);
  });

  test.for([
    { what: '/etc/shadow (DAC)', path: '/etc/shadow', reason: 'Permission denied' },
    {
      what: 'the CA bound for the agent',
      path: '/run/openshell/gateway-ca/ca.pem',
      reason: 'Permission denied',
    },
    {
      what: 'the agent install',
      path: '/run/openshell/agent/package.json',
      reason: 'Permission denied',
    },
    { what: "the host's node", path: '/run/openshell/node/run-node', reason: 'Permission denied' },
  ])('reading $what fails ($reason)', async ({ path, reason }) => {
    const out = await exec(['cat', path]);
    expect(out.code, show(out)).not.toBe(0);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain(reason);
  });

  test.for([
    { what: '/usr', dir: '/usr', ok: false },
    { what: '/etc', dir: '/etc', ok: false },
    { what: '/sandbox (positive control)', dir: '/sandbox', ok: true },
    { what: '/tmp (positive control)', dir: '/tmp', ok: true },
  ])('writing into $what', async ({ dir: target, ok }) => {
    const out = await sh(`echo written > ${target}/edk-write && cat ${target}/edk-write`);
    if (ok) expect(out, show(out)).toMatchObject({ code: 0, stdout: 'written\n' });
    else expect(out.code, show(out)).not.toBe(0);
  });

  test.for([
    { what: 'kill -0 the agent', args: ['kill', '$PPID', '0'], expected: 'EPERM' },
    { what: 'SIGKILL the agent', args: ['kill', '$PPID', '9'], expected: 'EPERM' },
    { what: "SIGKILL the engine's init", args: ['kill', '1', '9'], expected: 'EPERM' },
    { what: 'ptrace the agent', args: ['ptrace', '$PPID'], expected: 'EPERM' },
    { what: 'unshare(CLONE_NEWUSER)', args: ['unshare-user'], expected: 'EPERM' },
    { what: 'unshare(CLONE_NEWNET)', args: ['unshare-net'], expected: 'EPERM' },
    { what: 'mount a tmpfs', args: ['mount-tmpfs', '/tmp'], expected: 'EPERM' },
    { what: 'remount /usr read-write', args: ['remount-rw', '/usr'], expected: 'EPERM' },
    { what: 'a raw socket', args: ['socket', 'raw'], expected: 'EPERM' },
    { what: 'a packet socket', args: ['socket', 'packet'], expected: 'EPERM' },
    { what: 'plain fork (positive control)', args: ['fork'], expected: 'OK' },
    { what: 'a tcp socket (positive control)', args: ['socket', 'tcp'], expected: 'OK' },
    { what: 'signal itself (positive control)', args: ['kill', '$$', '0'], expected: 'OK' },
  ])('$what → $expected', async ({ args, expected }) => {
    const out = await sh(`${PROBE_IN_IMAGE} ${args.join(' ')}`);
    expect(out.stdout.trim(), show(out)).toBe(expected);
  });

  test.for([
    { what: 'unshare -U -r', argv: ['unshare', '-U', '-r', 'id', '-u'] },
    { what: 'nsenter --net=/proc/1/ns/net', argv: ['nsenter', '--net=/proc/1/ns/net', 'true'] },
    { what: 'setuid su(1)', argv: ['su', '-c', 'id -u', 'root'] },
  ])('the tool $what fails', async ({ argv }) => {
    const out = await exec(argv);
    expect(out.code, show(out)).not.toBe(0);
    expect(out.stdout).not.toMatch(/^0$/m);
  });

  test('the agent survived every attempt and still serves sessions', async () => {
    await expect(exec(['echo', 'alive'])).resolves.toMatchObject({ code: 0, stdout: 'alive\n' });
  });
});

describe('network inside the container: the proxy is the only way out', () => {
  test('TCP to the proxy connects (positive control)', async () => {
    const out = await probe('tcp4', NAMES.serviceAddress, env['OPENSHELL_PROXY_PORT'] ?? '');
    expect(out.stdout.trim(), show(out)).toBe('OK');
  });

  test.for([
    { what: 'the supervisor port as the sandbox user', address: NAMES.serviceAddress, port: 'S' },
    { what: 'an internet address', address: '1.1.1.1', port: '443' },
    { what: 'the host loopback', address: '127.0.0.1', port: '22' },
    { what: "the engine's usual bridge gateway", address: '10.88.0.1', port: '22' },
  ])('TCP to $what → ECONNREFUSED', async ({ address, port }) => {
    const target = port === 'S' ? (env['OPENSHELL_SUPERVISOR_PORT'] ?? '') : port;
    const out = await probe('tcp4', address, target);
    expect(out.stdout.trim(), show(out)).toBe('ECONNREFUSED');
  });

  test('UDP out (DNS to 8.8.8.8) fails at send', async () => {
    const out = await probe('udp4', '8.8.8.8', '53');
    expect(['EPERM', 'ECONNREFUSED'], show(out)).toContain(out.stdout.trim());
  });

  test('IPv6 out fails', async () => {
    const out = await probe('tcp6', '2606:4700:4700::1111', '443');
    expect(['ENETUNREACH', 'ECONNREFUSED', 'EADDRNOTAVAIL'], show(out)).toContain(
      out.stdout.trim(),
    );
  });
});

describe('resource limits through the engine (sandbox "limited": --memory 160m)', () => {
  const limited = (argv: readonly string[]): Promise<CliResult> => exec(argv, 'limited');

  test('allocating 32 MiB works (positive control)', async () => {
    const created = await openshell([
      ...['sandbox', 'create', '--name', 'limited', '--from', IMAGE, '--memory', '160m'],
      ...['--detach', '--', 'sleep', '600'],
    ]);
    expect(created.code, show(created)).toBe(0);
    const out = await limited([PROBE_IN_IMAGE, 'hog', '32']);
    expect(out.stdout, show(out)).toContain('held=32\nOK\n');
  });

  test('allocating 1 GiB is killed by the memory limit, and the agent survives', async () => {
    const out = await limited([PROBE_IN_IMAGE, 'hog', '1024']);
    expect(out.code, show({ ...out, stdout: out.stdout.slice(-200) })).not.toBe(0);
    expect(out.stdout).not.toContain('held=1024');
    await expect(limited(['echo', 'alive'])).resolves.toMatchObject({ stdout: 'alive\n' });
  });
});

describe('--from a Dockerfile directory', () => {
  test('the driver builds the context locally and runs the result', async () => {
    const context = join(dir, 'from-dir');
    // verbatimSymlinks: fs.cp would otherwise turn the rootfs' `bin -> usr/bin` into host paths.
    await cp(imageContext, context, { recursive: true, verbatimSymlinks: true });
    await appendFile(join(context, 'Dockerfile'), 'COPY marker /usr/lib/edk-marker\n');
    await writeFile(join(context, 'marker'), 'built-by-the-driver\n');
    const created = await openshell([
      ...['sandbox', 'create', '--name', 'built', '--from', context, '--'],
      ...['cat', '/usr/lib/edk-marker'],
    ]);
    expect(created.code, show(created)).toBe(0);
    expect(created.stdout).toBe('built-by-the-driver\n');
  });

  test('a directory without a Dockerfile is refused, naming the input', async () => {
    const created = await openshell([
      ...['sandbox', 'create', '--name', 'nodockerfile', '--from', dir, '--', 'true'],
    ]);
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('has no Dockerfile');
  });
});

describe('deletion', () => {
  test('deleting every sandbox leaves no container, netns, veth or sandbox process', async () => {
    expect((await ourContainers()).length, 'precondition: containers exist').toBeGreaterThan(0);
    const deleted = await openshell(['sandbox', 'delete', '--all']);
    expect(deleted.code, show(deleted)).toBe(0);
    expect(await ourContainers()).toEqual([]);
    expect(await hostObjects(NAMES)).toEqual([]);
  });
});
