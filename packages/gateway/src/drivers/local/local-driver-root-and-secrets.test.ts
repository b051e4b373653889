import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SandboxHandle } from '../compute-driver.js';
import {
  createDriverFixture,
  makeSpec,
  type DriverFixture,
} from './test-helpers/driver-fixture.js';
import { shInSandbox } from './test-helpers/exec-in-sandbox.js';

let fixture: DriverFixture;
let scratch: string;
let runDir: string;

beforeAll(async () => {
  fixture = await createDriverFixture({ prefix: 'otr', pool: '10.231.5.0/24', uidBase: 231_500 });
  scratch = await mkdtemp('/var/tmp/openshell-test-root-');
  runDir = join(scratch, 'agent-bin');
  await mkdir(runDir);
  await writeFile(join(runDir, 'hello'), 'agent-file\n');
});

afterAll(async () => {
  await fixture.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

/** Waits until the agent's log contains `text` (the agent writes it right after starting). */
async function waitForLog(handle: SandboxHandle, text: string): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const log = await readFile(handle.logFile, 'utf8');
    if (log.includes(text)) return log;
    await sleep(25);
  }
  return readFile(handle.logFile, 'utf8');
}

describe('--from DIR root filesystem', () => {
  /** The smallest root that runs a shell: dash, the C library, the dynamic loader. */
  async function buildRoot(): Promise<string> {
    const root = join(scratch, 'rootfs');
    for (const dir of ['bin', 'lib/x86_64-linux-gnu', 'lib64', 'etc'])
      await mkdir(join(root, dir), { recursive: true });
    await copyFile('/bin/dash', join(root, 'bin/sh'));
    await copyFile('/lib/x86_64-linux-gnu/libc.so.6', join(root, 'lib/x86_64-linux-gnu/libc.so.6'));
    await copyFile('/lib64/ld-linux-x86-64.so.2', join(root, 'lib64/ld-linux-x86-64.so.2'));
    await writeFile(join(root, 'etc/passwd'), '');
    await writeFile(join(root, 'etc/group'), '');
    await writeFile(join(root, 'etc/marker'), 'from-root\n');
    return root;
  }

  // dash builtins only: the root has no other programs.
  const report = [
    'read -r m < /etc/marker; echo "marker=$m"',
    'if test -e /usr/bin/node; then echo node=yes; else echo node=no; fi',
    'if test -d /sandbox; then echo sandbox=yes; fi',
    'while IFS= read -r l; do case "$l" in sandbox:*) echo "passwd=$l";; esac; done < /etc/passwd',
    'read -r b < /run/openshell/agent/hello; echo "bind=$b"',
  ].join('\n');

  test('the sandbox sees that directory instead of the host, plus its own mounts', async () => {
    const handle = await fixture.driver.create(
      makeSpec('fromdir', {
        from: await buildRoot(),
        command: ['/bin/sh', '-c', report],
        runBinds: [{ name: 'agent', source: runDir }],
      }),
    );
    await expect(fixture.driver.waitExit('fromdir')).resolves.toEqual({ code: 0 });
    const log = await readFile(handle.logFile, 'utf8');
    expect(log).toContain('marker=from-root');
    expect(log).toContain('node=no');
    expect(log).toContain('sandbox=yes');
    expect(log).toContain(`passwd=sandbox:x:${String(handle.identity.uid)}:`);
    expect(log).toContain('bind=agent-file');
    await fixture.driver.delete('fromdir');
  });

  test.for([
    ['a missing directory', 'missing'],
    ['a root whose etc has no passwd', 'nopasswd'],
  ] as const)('%s is refused before anything is created', async ([, kind]) => {
    const from = join(scratch, kind);
    if (kind === 'nopasswd') await mkdir(join(from, 'etc'), { recursive: true });
    await expect(fixture.driver.create(makeSpec('badroot', { from }))).rejects.toMatchObject({
      code: 'ERR_INPUT_UNREADABLE',
    });
    await expect(fixture.driver.get('badroot')).resolves.toBeUndefined();
  });
});

describe('agent files and the token', () => {
  const token = `tok-${randomBytes(12).toString('hex')}`;
  let handle: SandboxHandle;

  beforeAll(async () => {
    handle = await fixture.driver.create(
      makeSpec('secrets', {
        token,
        env: { AGENT_SETTING: 'on' },
        runBinds: [{ name: 'agent', source: runDir }],
        command: [
          '/bin/sh',
          '-c',
          'read -r t <&"$OPENSHELL_TOKEN_FD"; echo "token=$t"; exec sleep infinity',
        ],
      }),
    );
  });

  test('the agent reads the token from its inherited fd', async () => {
    expect(await waitForLog(handle, 'token=')).toContain(`token=${token}`);
  });

  test('the token is in no environment, argv or state file', async () => {
    const dump = await shInSandbox(
      fixture.driver,
      'secrets',
      'for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr "\\0" "\\n" < "$f"; done',
      [],
      'agent',
    );
    expect(dump.stdout).toContain('AGENT_SETTING=on'); // positive control: environments were read
    expect(dump.stdout).not.toContain(token);
    const stateDir = join(fixture.options.stateDir, 'sandboxes', 'secrets');
    for (const name of await readdir(stateDir)) {
      if (name === 'agent.log') continue; // The test agent echoes it there on purpose.
      expect(await readFile(join(stateDir, name), 'utf8'), name).not.toContain(token);
    }
  });

  test('/run/openshell is readable by the agent and closed to the sandbox user', async () => {
    const asAgent = await shInSandbox(
      fixture.driver,
      'secrets',
      'cat /run/openshell/agent/hello',
      [],
      'agent',
    );
    expect(asAgent.stdout).toBe('agent-file\n');
    const asUser = await shInSandbox(fixture.driver, 'secrets', 'cat /run/openshell/agent/hello');
    expect(asUser.code).not.toBe(0);
    expect(asUser.stderr).toContain('Permission denied');
  });

  test("the sandbox user cannot look into the agent's file descriptors", async () => {
    const result = await shInSandbox(fixture.driver, 'secrets', 'ls /proc/2/fd');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Permission denied');
    const asAgent = await shInSandbox(fixture.driver, 'secrets', 'ls /proc/2/fd', [], 'agent');
    expect(asAgent.code).toBe(0);
  });
});
