import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SandboxHandle } from '../compute-driver.js';
import {
  createDriverFixture,
  makeSpec,
  type DriverFixture,
} from './test-helpers/driver-fixture.js';
import { shInSandbox } from './test-helpers/exec-in-sandbox.js';

// Plants host files that the sandbox must not see, next to ones it must, and looks from
// inside. Real mounts (bubblewrap as root): these tests must run, never skip.
const tag = randomBytes(4).toString('hex');
const planted = {
  sshSecret: `/root/.ssh/openshell-test-secret-${tag}`,
  otherHome: `/home/openshell-test-user-${tag}`,
  hostTmp: `/tmp/openshell-test-hostonly-${tag}`,
  policyDir: `/var/tmp/openshell-test-fs-${tag}`,
};
const allowedFile = `${planted.policyDir}/allowed/file`;
const deniedFile = `${planted.policyDir}/denied/file`;
const writableDir = `${planted.policyDir}/rw`;
let createdSshDir = false;
let fixture: DriverFixture;
let sandbox: SandboxHandle;

beforeAll(async () => {
  createdSshDir = await stat('/root/.ssh').then(
    () => false,
    () => true,
  );
  await mkdir('/root/.ssh', { recursive: true, mode: 0o700 });
  await writeFile(planted.sshSecret, 'ssh-secret', { mode: 0o600 });
  await mkdir(planted.otherHome, { recursive: true });
  await writeFile(`${planted.otherHome}/secret`, 'home-secret');
  await writeFile(planted.hostTmp, 'tmp-secret');
  for (const dir of ['allowed', 'denied', 'rw'])
    await mkdir(`${planted.policyDir}/${dir}`, { recursive: true });
  await writeFile(allowedFile, 'allowed-content');
  await writeFile(deniedFile, 'denied-content');
  await chmod(writableDir, 0o777);
  fixture = await createDriverFixture({ prefix: 'otf', pool: '10.231.2.0/24', uidBase: 231_200 });
  const spec = makeSpec('fs');
  sandbox = await fixture.driver.create({
    ...spec,
    filesystem: {
      ...spec.filesystem,
      read_only: [...spec.filesystem.read_only, `${planted.policyDir}/allowed`],
      read_write: [...spec.filesystem.read_write, writableDir],
    },
  });
}, 30_000);

afterAll(async () => {
  await fixture.cleanup();
  await rm(planted.sshSecret, { force: true });
  if (createdSshDir) await rm('/root/.ssh', { recursive: true, force: true });
  for (const path of [planted.otherHome, planted.hostTmp, planted.policyDir]) {
    await rm(path, { recursive: true, force: true });
  }
});

const exists = (path: string) => shInSandbox(fixture.driver, 'fs', 'test -e "$1"', [path]);

describe('what the sandbox user can see', () => {
  test.for([
    ['a host secret in /root/.ssh', planted.sshSecret],
    ["another user's home", `${planted.otherHome}/secret`],
    ['a file in the host /tmp', planted.hostTmp],
    ['a host path the policy does not list', deniedFile],
    ['the host /sys', '/sys/kernel'],
    ['the host /var', '/var/lib'],
  ] as const)('%s is absent', async ([, path]) => {
    expect((await exists(path)).code).toBe(1);
  });

  test.for([
    ['a path the policy lists read-only', allowedFile],
    ['the system binaries', '/usr/bin/node'],
    ['the merged-/usr links', '/bin/sh'],
    ['the workspace', '/sandbox'],
  ] as const)('%s is present (positive control)', async ([, path]) => {
    expect((await exists(path)).code).toBe(0);
  });

  test('a listed file reads with its host content', async () => {
    const result = await shInSandbox(fixture.driver, 'fs', 'cat "$1"', [allowedFile]);
    expect(result.stdout).toBe('allowed-content');
  });

  test('/etc/shadow is unreadable, /etc/passwd names the sandbox user', async () => {
    const shadow = await shInSandbox(fixture.driver, 'fs', 'cat /etc/shadow');
    expect(shadow.code).not.toBe(0);
    expect(shadow.stderr).toContain('Permission denied');
    const passwd = await shInSandbox(fixture.driver, 'fs', 'cat /etc/passwd; id -un');
    expect(passwd.stdout).toContain(
      `sandbox:x:${String(sandbox.identity.uid)}:${String(sandbox.identity.gid)}:`,
    );
    expect(passwd.stdout.trim().split('\n').pop()).toBe('sandbox');
  });
});

describe('what can be written', () => {
  // As the agent (uid 0, its four capabilities): a permission check cannot be what stops
  // these writes, so the read-only bind itself is under test.
  test.for([
    ['/usr', '/usr/openshell-probe'],
    ['/etc', '/etc/openshell-probe'],
    ['a read-only policy path', `${planted.policyDir}/allowed/probe`],
  ] as const)('%s is read-only even for the agent', async ([, path]) => {
    const result = await shInSandbox(fixture.driver, 'fs', 'touch "$1"', [path], 'agent');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Read-only file system');
  });

  test('the agent cannot remount a read-only bind writable (no CAP_SYS_ADMIN)', async () => {
    const result = await shInSandbox(
      fixture.driver,
      'fs',
      'mount -o remount,bind,rw /usr',
      [],
      'agent',
    );
    expect(result.code).not.toBe(0);
    expect(
      (await shInSandbox(fixture.driver, 'fs', 'touch /usr/openshell-probe', [], 'agent')).code,
    ).not.toBe(0);
  });

  test('/sandbox is writable by the sandbox user and lands in the host workspace as its uid', async () => {
    const result = await shInSandbox(fixture.driver, 'fs', 'echo hello > /sandbox/note');
    expect(result).toMatchObject({ code: 0 });
    const onHost = await stat(`${sandbox.sandboxDir}/note`);
    expect(onHost.uid).toBe(sandbox.identity.uid);
    expect(await readFile(`${sandbox.sandboxDir}/note`, 'utf8')).toBe('hello\n');
  });

  test('/tmp is writable, private and sticky', async () => {
    const name = `openshell-private-${tag}`;
    const result = await shInSandbox(
      fixture.driver,
      'fs',
      'echo x > "/tmp/$1" && stat -c %a /tmp',
      [name],
    );
    expect(result.stdout.trim()).toBe('1777');
    await expect(stat(`/tmp/${name}`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('a read_write policy path is a writable bind of the host directory', async () => {
    const result = await shInSandbox(fixture.driver, 'fs', 'echo rw > "$1/out"', [writableDir]);
    expect(result.code).toBe(0);
    expect(await readFile(`${writableDir}/out`, 'utf8')).toBe('rw\n');
  });
});

describe('processes and privileges', () => {
  const listProcesses = `for p in /proc/[0-9]*; do printf '%s ' "\${p#/proc/}"; tr '\\0' ' ' < "$p/cmdline"; echo; done`;

  test('only the sandbox tree is visible in /proc: bubblewrap init as 1, the agent as 2', async () => {
    const { stdout } = await shInSandbox(fixture.driver, 'fs', listProcesses);
    const lines = stdout.trim().split('\n');
    expect(lines.find((line) => line.startsWith('1 '))).toMatch(/^1 \S*bwrap --args 6 -- /);
    expect(lines.find((line) => line.startsWith('2 '))).toBe('2 /bin/sleep infinity ');
    expect(stdout).not.toContain('vitest');
    expect(lines.length).toBeLessThan(8);
  });

  test("bubblewrap's argv (host paths, environment) stays out of /proc/1/cmdline", async () => {
    const { stdout } = await shInSandbox(fixture.driver, 'fs', "tr '\\0' ' ' < /proc/1/cmdline");
    expect(stdout).not.toContain(fixture.options.stateDir);
    expect(stdout).not.toContain('--setenv');
  });

  test('the agent holds exactly SETUID, SETGID, SETPCAP and KILL, with no_new_privs', async () => {
    const { stdout } = await shInSandbox(
      fixture.driver,
      'fs',
      'grep -E "^(CapEff|CapPrm|NoNewPrivs)" /proc/2/status',
    );
    expect(stdout).toContain('CapEff:\t00000000000001e0');
    expect(stdout).toContain('CapPrm:\t00000000000001e0');
    expect(stdout).toContain('NoNewPrivs:\t1');
  });

  test('the hostname is "sandbox" and the host environment did not leak', async () => {
    expect((await shInSandbox(fixture.driver, 'fs', 'hostname')).stdout.trim()).toBe('sandbox');
    const environ = await shInSandbox(
      fixture.driver,
      'fs',
      "tr '\\0' '\\n' < /proc/2/environ",
      [],
      'agent',
    );
    expect(environ.stdout).toContain('OPENSHELL_SANDBOX_ID=fs');
    expect(environ.stdout).not.toMatch(/VITEST|NODE_OPTIONS|npm_/);
  });
});

describe('a policy with read_only "/"', () => {
  test('starts, shows the host tree read-only, and DAC still guards root-only secrets', async () => {
    const spec = makeSpec('fs-root');
    await fixture.driver.create({
      ...spec,
      filesystem: { ...spec.filesystem, read_only: ['/'] },
    });
    try {
      // Positive controls: the explicitly listed root is there (a host dir outside the base
      // OS dirs), the merged-/usr links still resolve, and it is read-only.
      const seen = await shInSandbox(fixture.driver, 'fs-root', 'cat "$1" && test -x /bin/sh', [
        deniedFile,
      ]);
      expect(seen).toMatchObject({ code: 0, stdout: 'denied-content' });
      const write = await shInSandbox(fixture.driver, 'fs-root', 'touch "$1"', [
        `${planted.policyDir}/denied/new`,
      ]);
      expect(write.code).not.toBe(0);
      expect(write.stderr).toMatch(/Read-only file system/);
      const secret = await shInSandbox(fixture.driver, 'fs-root', 'cat "$1"', [planted.sshSecret]);
      expect(secret.code).not.toBe(0);
      expect(secret.stdout).not.toContain('ssh-secret');
    } finally {
      await fixture.driver.delete('fs-root');
    }
  });
});
