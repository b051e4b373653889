import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_POLICY, policyToYaml } from '@openshell/policy-schema';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listHostObjects } from '../src/drivers/local/test-helpers/list-host-objects.js';
import { AGENT_ENTRY, plantSecret, type PlantedSecret } from './helpers/battery-host.js';
import { PROBE, createBatteryWorld, type BatteryWorld } from './helpers/battery-sandboxes.js';
import type { ExecOutcome } from './helpers/test-supervisor.js';

// Escape attempts against the whole runtime: local driver (netns + nftables + bubblewrap +
// cgroups) → sandbox-agent in gateway mode over TLS → native launcher → the attempt, as the
// sandbox's host uid under the DEFAULT policy. Root and the kernel features are required:
// a missing one fails these tests, it never skips them.
const MIB = 1024 * 1024;
const PIDS_MAX = 64;
const MARK = randomBytes(6).toString('hex');
const SECRET = `battery-secret-${MARK}`;
let world: BatteryWorld;
const planted: PlantedSecret[] = [];
const hostTmpMarker = `/tmp/openshell-battery-marker-${MARK}`;

beforeAll(async () => {
  planted.push(await plantSecret('/root/.ssh/openshell-battery-secret', SECRET));
  planted.push(await plantSecret(`/home/openshell-battery-${MARK}/secret`, SECRET, 4242));
  await writeFile(hostTmpMarker, SECRET);
  world = await createBatteryWorld({
    prefix: 'oeb',
    pool: '10.239.7.0/24',
    uidBase: 239_700,
    serviceAddress: '10.239.6.1',
  });
  await Promise.all([
    world.start('main'),
    world.start('limited', { memoryBytes: 160 * MIB, pids: PIDS_MAX }),
  ]);
}, 60_000);

afterAll(async () => {
  await world?.teardown();
  for (const secret of planted) await secret.remove();
  await rm(hostTmpMarker, { force: true });
}, 30_000);

function exec(argv: readonly string[], id = 'main'): Promise<ExecOutcome> {
  return world.supervisor.exec(id, argv);
}
const sh = (script: string, id = 'main'): Promise<ExecOutcome> => exec(['sh', '-c', script], id);
const probe = (...args: string[]): Promise<ExecOutcome> => exec([PROBE, ...args]);
const show = (outcome: ExecOutcome): string => JSON.stringify(outcome);

describe('the session itself', () => {
  test('runs as the sandbox host uid with no capabilities, no_new_privs and seccomp', async () => {
    const { uid, gid } = world.runtimes.get('main')?.handle.identity ?? { uid: 0, gid: 0 };
    expect(uid, 'the driver gives each sandbox its own host uid, not 10001').toBeGreaterThan(
      200_000,
    );
    const out = await sh(
      'id -u; id -g; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status',
    );
    expect(out.code, show(out)).toBe(0);
    expect(out.stdout).toBe(
      `${String(uid)}\n${String(gid)}\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n`,
    );
  });
});

describe('filesystem: host secrets stay out of reach', () => {
  // Absent: /root and /home are empty tmpfs inside. /etc/shadow: bound, but DAC (0640
  // root:shadow). /run/openshell: bound for the agent, but outside the policy's Landlock set.
  const ABSENT = 'No such file or directory';
  const DENIED = 'Permission denied';
  test.for([
    {
      what: "a secret in root's ~/.ssh",
      path: '/root/.ssh/openshell-battery-secret',
      reason: ABSENT,
    },
    { what: "a secret in another user's home", path: () => planted[1]?.path ?? '', reason: ABSENT },
    { what: '/etc/shadow', path: '/etc/shadow', reason: DENIED },
    {
      what: 'the CA bound for the agent',
      path: '/run/openshell/gateway-ca/ca.pem',
      reason: DENIED,
    },
    { what: 'the agent install', path: '/run/openshell/agent/package.json', reason: DENIED },
  ])('reading $what fails ($reason)', async ({ path, reason }) => {
    const file = typeof path === 'string' ? path : path();
    expect(existsSync(file) || file.startsWith('/run/'), `${file} must exist on the host`).toBe(
      true,
    );
    const out = await exec(['cat', file]);
    expect(out.code, `cat ${file} must fail: ${show(out)}`).not.toBe(0);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain(reason);
  });

  test.for([
    { what: 'a host file under /etc (policy read_only)', path: '/etc/os-release', expect: 'ID=' },
    { what: 'a host file under /usr', path: '/usr/lib/os-release', expect: 'ID=' },
  ])('reading $what works (positive control)', async ({ path, expect: fragment }) => {
    const out = await exec(['cat', path]);
    expect(out.code, show(out)).toBe(0);
    expect(out.stdout).toContain(fragment);
  });

  test('the host /tmp is not visible: a marker planted there is absent inside', async () => {
    expect(existsSync(hostTmpMarker)).toBe(true);
    const out = await exec(['cat', hostTmpMarker]);
    expect(out.code, show(out)).not.toBe(0);
    expect(out.stdout).not.toContain(SECRET);
  });
});

describe('filesystem: writes', () => {
  const name = `openshell-battery-write-${MARK}`;
  test.for([
    { what: '/usr', dir: '/usr' },
    { what: '/etc', dir: '/etc' },
    { what: 'the agent install', dir: '/run/openshell/agent' },
  ])('writing into $what fails and nothing appears on the host', async ({ dir }) => {
    const out = await sh(`echo x > ${dir}/${name}`);
    expect(out.code, show(out)).not.toBe(0);
    expect(existsSync(join(dir, name))).toBe(false);
  });

  test.for([
    { what: '/sandbox', dir: '/sandbox' },
    { what: '/tmp', dir: '/tmp' },
  ])('writing into $what works (positive control)', async ({ dir }) => {
    const out = await sh(`echo written > ${dir}/${name} && cat ${dir}/${name}`);
    expect(out.code, show(out)).toBe(0);
    expect(out.stdout).toBe('written\n');
  });

  test("/sandbox is the host workspace; the sandbox's /tmp is not the host's /tmp", async () => {
    const handle = world.runtimes.get('main')?.handle;
    await sh(`echo w > /sandbox/${name}-2 && echo w > /tmp/${name}-2`);
    expect(await readFile(join(handle?.sandboxDir ?? '/nonexistent', `${name}-2`), 'utf8')).toBe(
      'w\n',
    );
    expect(existsSync(`/tmp/${name}-2`), 'a sandbox write reached the host /tmp').toBe(false);
  });
});

describe('processes', () => {
  test('only the sandbox processes are visible in /proc and ps', async () => {
    const hostPids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).length;
    const out = await sh('ls -d /proc/[0-9]* | wc -l; ps -e -o comm=');
    expect(out.code, show(out)).toBe(0);
    const [count = '', ...names] = out.stdout.trim().split('\n');
    // bwrap's init, sh (exec'd into node: the agent), the main sleep, this sh and its children.
    expect(Number(count), show(out)).toBeLessThanOrEqual(8);
    expect(hostPids, 'the host must show more processes than the sandbox').toBeGreaterThan(
      Number(count) + 5,
    );
    expect(new Set(names.map((n) => n.trim()))).toEqual(
      new Set(['bwrap', 'node', 'sleep', 'sh', 'ps']),
    );
  });

  test('the parent of a session process is the agent (what the next attacks target)', async () => {
    const out = await sh('tr "\\0" " " < /proc/$PPID/cmdline');
    expect(out.code, show(out)).toBe(0);
    expect(out.stdout).toContain(`/run/openshell/agent/${AGENT_ENTRY}`);
  });

  test("the agent's token is not in its cmdline, and its environ and fds are closed to the sandbox user", async () => {
    const token = world.tokens.get('main') ?? '';
    expect(token).toHaveLength(48);
    const cmdline = await sh('cat /proc/$PPID/cmdline');
    expect(cmdline.code, show(cmdline)).toBe(0);
    expect(cmdline.stdout).not.toContain(token);
    // Root-owned and not dumpable to this uid: ptrace access mode checks refuse all three.
    for (const command of [
      'cat /proc/$PPID/environ',
      'ls /proc/$PPID/fd/',
      'cat /proc/$PPID/mem',
    ]) {
      const out = await sh(command);
      expect(out.code, `${command}: ${show(out)}`).not.toBe(0);
      expect(out.stdout).not.toContain(token);
    }
  });

  test.for([
    { what: 'kill -0 (probe) the agent', args: ['kill', '$PPID', '0'] },
    { what: 'SIGTERM the agent', args: ['kill', '$PPID', '15'] },
    { what: 'SIGKILL the agent', args: ['kill', '$PPID', '9'] },
    { what: "SIGKILL bubblewrap's init", args: ['kill', '1', '9'] },
    { what: 'ptrace-attach the agent', args: ['ptrace', '$PPID'] },
  ])('$what → EPERM', async ({ args }) => {
    const out = await sh(`${PROBE} ${args.join(' ')}`);
    expect(out.stdout.trim(), show(out)).toBe('EPERM');
  });

  test('signalling its own process works (positive control)', async () => {
    const out = await sh(`${PROBE} kill $$ 0`);
    expect(out.stdout.trim(), show(out)).toBe('OK');
  });

  test('the agent survived every attempt and still serves sessions', async () => {
    await expect(exec(['echo', 'alive'])).resolves.toMatchObject({ code: 0, stdout: 'alive\n' });
  });
});

describe('namespaces, mounts and privilege gain', () => {
  test.for([
    { what: 'unshare(CLONE_NEWUSER)', argv: [PROBE, 'unshare-user'], errno: 'EPERM' },
    { what: 'unshare(CLONE_NEWNET)', argv: [PROBE, 'unshare-net'], errno: 'EPERM' },
    { what: 'unshare(CLONE_NEWNS)', argv: [PROBE, 'unshare-mount'], errno: 'EPERM' },
    { what: 'mount a tmpfs', argv: [PROBE, 'mount-tmpfs', '/tmp'], errno: 'EPERM' },
    { what: 'remount /usr read-write', argv: [PROBE, 'remount-rw', '/usr'], errno: 'EPERM' },
    { what: "setns into init's netns", argv: [PROBE, 'setns', '/proc/1/ns/net'], errno: 'EACCES' },
  ])('$what → $errno', async ({ argv, errno }) => {
    const out = await exec(argv);
    expect(out.stdout.trim(), show(out)).toBe(errno);
  });

  test.for([
    { what: 'unshare -U -r (user namespace as root)', argv: ['unshare', '-U', '-r', 'id', '-u'] },
    { what: 'unshare -n', argv: ['unshare', '-n', 'true'] },
    { what: 'unshare -m', argv: ['unshare', '-m', 'true'] },
    { what: 'nsenter --net=/proc/1/ns/net', argv: ['nsenter', '--net=/proc/1/ns/net', 'true'] },
    { what: 'setuid mount(8)', argv: ['mount', '-t', 'tmpfs', 'none', '/tmp'] },
    { what: 'setuid su(1)', argv: ['su', '-c', 'id -u', 'root'] },
  ])('the tool $what fails', async ({ argv }) => {
    const out = await exec(argv);
    expect(out.code, show(out)).not.toBe(0);
    expect(out.stdout).not.toMatch(/^0$/m);
  });

  test('setuid binaries exist but run without their privilege (positive control + no_new_privs)', async () => {
    const out = await sh('stat -c %A /usr/bin/mount /usr/bin/su; mount -t tmpfs none /tmp 2>&1');
    expect(out.stdout, show(out)).toMatch(/^-rwsr-xr-x\n-rwsr-xr-x\n/);
    expect(out.stdout).toContain('must be superuser');
  });

  test('plain fork still works (positive control for the clone filter)', async () => {
    await expect(probe('fork')).resolves.toMatchObject({ stdout: 'OK\n' });
  });
});

describe('sockets', () => {
  test.for([
    { kind: 'raw', errno: 'EPERM' },
    { kind: 'packet', errno: 'EPERM' },
    { kind: 'netlink-audit', errno: 'EPERM' },
  ])('a $kind socket → $errno', async ({ kind, errno }) => {
    const out = await probe('socket', kind);
    expect(out.stdout.trim(), show(out)).toBe(errno);
  });

  test.for([{ kind: 'tcp' }, { kind: 'unix' }])(
    'a $kind socket opens (positive control)',
    async ({ kind }) => {
      await expect(probe('socket', kind)).resolves.toMatchObject({ stdout: 'OK\n' });
    },
  );
});

describe('network: the proxy is the only way out', () => {
  const host = (): string => world.runtimes.get('main')?.handle.network.hostAddress ?? '';

  test('TCP to the proxy connects (positive control)', async () => {
    const before = world.proxy.accepted();
    const out = await probe('tcp4', world.serviceAddress, String(world.proxy.port));
    expect(out.stdout.trim(), show(out)).toBe('OK');
    expect(world.proxy.accepted()).toBe(before + 1);
  });

  test.for([
    {
      what: 'the supervisor port as the sandbox user',
      address: () => world.serviceAddress,
      port: () => world.supervisor.port,
      errno: 'ECONNREFUSED',
    },
    {
      what: 'an internet address',
      address: () => '1.1.1.1',
      port: () => 443,
      errno: 'ECONNREFUSED',
    },
    {
      what: 'the host side of the veth pair',
      address: host,
      port: () => 22,
      errno: 'ECONNREFUSED',
    },
    {
      what: 'the host loopback',
      address: () => '127.0.0.1',
      port: () => world.supervisor.port,
      errno: 'ECONNREFUSED',
    },
  ])('TCP to $what → $errno', async ({ address, port, errno }) => {
    const before = world.proxy.accepted();
    const out = await probe('tcp4', address(), String(port()));
    expect(out.stdout.trim(), show(out)).toBe(errno);
    expect(world.proxy.accepted()).toBe(before);
  });

  test('UDP out (a DNS query to 8.8.8.8:53) fails at send', async () => {
    const out = await probe('udp4', '8.8.8.8', '53');
    expect(['EPERM', 'ECONNREFUSED'], show(out)).toContain(out.stdout.trim());
  });

  test('name resolution through the host resolver fails', async () => {
    const out = await exec(['getent', 'hosts', 'example.com']);
    expect(out.code, show(out)).not.toBe(0);
    expect(out.stdout).toBe('');
  });

  test('IPv6 out fails (no IPv6 address or route inside)', async () => {
    const out = await probe('tcp6', '2606:4700:4700::1111', '443');
    expect(['ENETUNREACH', 'ECONNREFUSED', 'EADDRNOTAVAIL'], show(out)).toContain(
      out.stdout.trim(),
    );
  });

  test('the agent reaches the supervisor: every session in this file crossed that path', () => {
    const hello = world.supervisor.received('main').find((e) => e.payload?.$case === 'hello');
    expect(hello?.payload?.value).toMatchObject({ sandboxId: 'main' });
  });
});

describe('resource limits (sandbox "limited": 160 MiB, 64 pids)', () => {
  const limited = (argv: readonly string[]): Promise<ExecOutcome> => exec(argv, 'limited');

  test('allocating 32 MiB works (positive control)', async () => {
    const out = await limited([PROBE, 'hog', '32']);
    expect(out.stdout, show(out)).toContain('held=32\nOK\n');
  });

  test('allocating 1 GiB is killed by the memory limit, and the agent survives', async () => {
    const out = await limited([PROBE, 'hog', '1024']);
    expect(out.signal, show({ ...out, stdout: out.stdout.slice(-200) })).toBe('SIGKILL');
    expect(out.stdout).not.toContain('held=1024');
    await expect(limited(['echo', 'alive'])).resolves.toMatchObject({ stdout: 'alive\n' });
  });

  test('forking 200 children works without a pids limit (positive control)', async () => {
    const out = await probe('fork-many', '200');
    expect(out.stdout, show(out)).toBe('forked=200 stop=none\n');
  });

  test('a fork bomb (10000 children) is held by the pids limit with EAGAIN', async () => {
    const out = await limited([PROBE, 'fork-many', '10000']);
    const match = /^forked=(\d+) stop=(\w+)$/.exec(out.stdout.trim());
    expect(match?.[2], show(out)).toBe('EAGAIN');
    expect(Number(match?.[1])).toBeLessThan(PIDS_MAX);
    await expect(limited(['echo', 'alive'])).resolves.toMatchObject({ stdout: 'alive\n' });
  });
});

describe('core dumps', () => {
  test('are disabled: ulimit -c and RLIMIT_CORE soft and hard are 0', async () => {
    const out = await sh('ulimit -c; grep "^Max core file size" /proc/self/limits');
    expect(out.code, show(out)).toBe(0);
    expect(out.stdout).toMatch(/^0\nMax core file size\s+0\s+0\s+bytes\s*\n$/);
  });

  test('the sandbox user cannot raise RLIMIT_CORE again', async () => {
    const out = await sh('ulimit -c unlimited && echo raised');
    expect(out.stdout, show(out)).not.toContain('raised');
  });
});

describe('policy pushed to a live sandbox', () => {
  test('a static change (filesystem_policy) is refused, naming the field', async () => {
    const fs = DEFAULT_POLICY.filesystem_policy;
    const changed = {
      ...DEFAULT_POLICY,
      filesystem_policy: { ...fs, read_only: [...fs.read_only, '/opt'] },
    };
    const ack = await world.supervisor.pushPolicy('main', 2, policyToYaml(changed));
    expect(ack.ok, JSON.stringify(ack)).toBe(false);
    expect(ack.error).toContain('filesystem_policy');
  });

  test('a dynamic-only change (network_policies) is accepted (positive control)', async () => {
    const yaml = `${policyToYaml(DEFAULT_POLICY).replace(/^network_policies:.*\n?/m, '')}
network_policies:
  github:
    name: github
    endpoints:
      - host: api.github.com
        port: 443
    binaries:
      - path: /usr/bin/git
`;
    const ack = await world.supervisor.pushPolicy('main', 3, yaml);
    expect(ack, JSON.stringify(ack)).toMatchObject({ ok: true, version: 3 });
  });
});

describe('deletion', () => {
  test('deleting both sandboxes leaves nothing on the host', async () => {
    const before = await listHostObjects(world.fixture);
    expect(before.netns, 'precondition: the sandboxes exist').toHaveLength(2);
    for (const id of ['main', 'limited']) {
      await expect(world.fixture.driver.delete(id)).resolves.toBe(true);
    }
    expect(await listHostObjects(world.fixture)).toEqual({
      netns: [],
      links: [],
      firewall: [],
      mounts: [],
      cgroups: [],
      processes: [],
      leases: [],
      files: [],
    });
  });
});
