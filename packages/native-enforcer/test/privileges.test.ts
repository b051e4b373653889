import { closeSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeLaunchSpec, launcherPath } from '../src/index.js';
import { runDirect, runLaunched, runRawLauncher } from './helpers/run-process.js';
import {
  assertEnforcementHost,
  createSandboxWorld,
  worldSpec,
  type SandboxWorld,
} from './helpers/sandbox-world.js';

let world: SandboxWorld;

beforeAll(async () => {
  await assertEnforcementHost();
  world = await createSandboxWorld();
}, 60_000);

afterAll(async () => {
  await world?.cleanup();
});

function parseStatus(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .map((line) => line.split(':\t'))
      .filter((parts): parts is [string, string] => parts.length === 2)
      .map(([key, value]) => [key, value.trim()]),
  );
}

const ZERO_CAPS = '0000000000000000';
const CAP_FIELDS = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'] as const;

describe('identity and capabilities in /proc/self/status', () => {
  test('uid/gid 10001 everywhere, the spec groups, all capability sets empty, NoNewPrivs, seccomp', async () => {
    const result = await runLaunched(
      worldSpec(world, ['cat', '/proc/self/status'], { groups: [20002, 20003] }),
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const status = parseStatus(result.stdout);
    expect(status.get('Uid')).toBe('10001\t10001\t10001\t10001');
    expect(status.get('Gid')).toBe('10001\t10001\t10001\t10001');
    expect(status.get('Groups')).toBe('20002 20003');
    for (const field of CAP_FIELDS) expect(status.get(field), field).toBe(ZERO_CAPS);
    expect(status.get('NoNewPrivs')).toBe('1');
    expect(status.get('Seccomp')).toBe('2');
  });

  test('control: the same read without the launcher shows root with a full bounding set', async () => {
    const status = parseStatus((await runDirect(['cat', '/proc/self/status'])).stdout);
    expect(status.get('Uid')).toBe('0\t0\t0\t0');
    expect(status.get('CapBnd')).not.toBe(ZERO_CAPS);
    expect(status.get('CapEff')).not.toBe(ZERO_CAPS);
    expect(status.get('NoNewPrivs')).toBe('0');
  });

  test("no supplementary groups when the spec lists none (the caller's are cleared)", async () => {
    const result = await runLaunched(worldSpec(world, ['cat', '/proc/self/status']));
    expect(parseStatus(result.stdout).get('Groups')).toBe('');
  });
});

describe('regaining root fails', () => {
  test.for(['setuid-root', 'setgid-root', 'setgroups'])(
    '%s: EPERM under the launcher, OK as root without it',
    async (attempt) => {
      const [direct, launched] = await Promise.all([
        runDirect([world.probe, attempt]),
        runLaunched(worldSpec(world, [world.probe, attempt])),
      ]);
      expect(direct.stdout.trim()).toBe('OK');
      expect(launched.stdout.trim()).toBe('EPERM');
    },
  );
});

describe('resource limits', () => {
  test('RLIMIT_CORE is 0 soft and hard, and cannot be raised', async () => {
    const launched = await runLaunched(worldSpec(world, [world.probe, 'rlimit-core']));
    expect(launched.stdout.trim()).toBe('0 0 EPERM');
    // control: without the launcher the hard limit is not 0 and raising the soft one works
    const direct = await runDirect([world.probe, 'rlimit-core'], { asSandboxUser: true });
    expect(direct.stdout.trim()).toMatch(/^\d+ \d+ OK$/);
    expect(direct.stdout.trim().split(' ')[1]).not.toBe('0');
  });

  test('optional nofile and nproc limits are applied as soft = hard', async () => {
    const result = await runLaunched(
      worldSpec(world, ['grep', '-E', '^Max (open files|processes) ', '/proc/self/limits'], {
        rlimits: { nofile: 256, nproc: 4096 },
      }),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Max processes +4096 +4096 /m);
    expect(result.stdout).toMatch(/^Max open files +256 +256 /m);
  });
});

describe('environment and file descriptors', () => {
  test("the command gets exactly the spec environment, in order, none of the launcher's", async () => {
    const env = {
      PATH: '/usr/bin:/bin',
      ZED: 'last=first',
      ANTHROPIC_API_KEY: 'openshell:resolve:env:ANTHROPIC_API_KEY',
      A: '',
    };
    const payload = encodeLaunchSpec(worldSpec(world, [world.probe, 'env'], { env }));
    const result = await runRawLauncher({
      payload,
      env: { OPENSHELL_CANARY: 'must-not-leak', PATH: '/sbin' },
    });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.split('\n').filter(Boolean)).toEqual(
      Object.entries(env).map(([k, v]) => `${k}=${v}`),
    );
  });

  test('an fd above 2 inherited without CLOEXEC is closed before exec', async () => {
    const leaked = openSync('/etc/hostname', 'r');
    try {
      const payload = encodeLaunchSpec(worldSpec(world, [world.probe, 'list-fds']));
      const launched = await runRawLauncher({ payload, extraFds: [leaked] });
      expect(launched).toMatchObject({ code: 0, stdout: '0 1 2\n' });
      // control: the same stdio layout without the launcher does show fd 4
      const direct = await runDirect([world.probe, 'list-fds'], { extraFds: [leaked] });
      expect(direct.stdout.trim().split(' ')).toContain('4');
    } finally {
      closeSync(leaked);
    }
  });

  test("a launcher that inherited the spec pipe's own write end still reads the spec and runs", async () => {
    const specFile = join(world.root, 'leaked-writer.spec');
    await writeFile(specFile, encodeLaunchSpec(worldSpec(world, [world.probe, 'fork'])));
    const result = await runDirect([
      world.probe,
      'launch-with-leaked-writer',
      launcherPath(),
      specFile,
    ]);
    expect(result).toMatchObject({ code: 0, stdout: 'OK\nexit=0\n' });
  });

  test('fds 0-2 reach the command blocking even when the launcher got them O_NONBLOCK', async () => {
    const payload = encodeLaunchSpec(worldSpec(world, [world.probe, 'stdio-flags']));
    const nonblocking = [world.probe, 'exec-nonblocking-stdio'];
    const launched = await runRawLauncher({ payload, wrapper: nonblocking });
    expect(launched).toMatchObject({
      code: 0,
      stdout: '0:inherit:block 1:inherit:block 2:inherit:block\n',
    });
    // control: the wrapper does hand over non-blocking fds when no launcher clears them
    const direct = await runDirect([...nonblocking, world.probe, 'stdio-flags']);
    expect(direct.stdout).toBe('0:inherit:nonblock 1:inherit:nonblock 2:inherit:nonblock\n');
  });

  test('ignored and blocked signals of the caller do not reach the command', async () => {
    const readMasks = ['grep', '-E', '^Sig(Blk|Ign):', '/proc/self/status'];
    const ignoring = [world.probe, 'exec-ignoring-signals'];
    const launched = await runRawLauncher({
      payload: encodeLaunchSpec(worldSpec(world, readMasks)),
      wrapper: ignoring,
    });
    expect(launched).toMatchObject({
      code: 0,
      stdout: 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n',
    });
    // control: without the launcher SIGINT (2) and SIGPIPE (13) stay ignored, SIGTERM (15) blocked
    const direct = await runDirect([...ignoring, '/usr/bin/grep', ...readMasks.slice(1)]);
    expect(direct.stdout).toBe('SigBlk:\t0000000000004000\nSigIgn:\t0000000000001002\n');
  });

  test('a closed stdin is replaced by /dev/null, so the next open() cannot take fd 0', async () => {
    const payload = encodeLaunchSpec(worldSpec(world, ['sh', '-c', 'cat; echo end']));
    const result = await runRawLauncher({ payload, stdin: 'ignore' });
    expect(result).toMatchObject({ code: 0, stdout: 'end\n' });
  });
});
