import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeLaunchSpec } from '../src/index.js';
import { runLaunched, runRawLauncher } from './helpers/run-process.js';
import {
  assertEnforcementHost,
  createSandboxWorld,
  withLandlockUnavailable,
  worldSpec,
  type SandboxWorld,
} from './helpers/sandbox-world.js';

let world: SandboxWorld;

/** Waits until `child` has exec'd `comm` (setpriv has switched the uid by then). */
async function waitForCommand(child: ChildProcess, comm: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const current = await readFile(`/proc/${child.pid}/comm`, 'utf8').catch(() => '');
    if (current.trim() === comm) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`process ${child.pid} never became ${comm}`);
}

beforeAll(async () => {
  await assertEnforcementHost();
  world = await createSandboxWorld();
}, 60_000);

afterAll(async () => {
  await world?.cleanup();
});

async function attempt(
  args: readonly string[],
  landlock: 'hard_requirement' | 'off' = 'hard_requirement',
): Promise<string> {
  const result = await runLaunched(worldSpec(world, [world.probe, ...args], { landlock }));
  expect(result.stderr).toBe('');
  return result.stdout.trim();
}

/**
 * Every directory here is world-writable and every file world-readable, so the "off"
 * column (same uid, same seccomp, no Landlock) shows file permissions allow the access,
 * and the EACCES under Landlock is Landlock's.
 */
describe('filesystem rules', () => {
  test.for([
    {
      name: 'read a file under a read-only path',
      args: () => ['read', join(world.roDir, 'file.txt')],
      landlock: 'OK',
      off: 'OK',
    },
    {
      name: 'read a file under no rule',
      args: () => ['read', join(world.hiddenDir, 'secret.txt')],
      landlock: 'EACCES',
      off: 'OK',
    },
    {
      name: 'read /etc/hostname (system read-only)',
      args: () => ['read', '/etc/hostname'],
      landlock: 'OK',
      off: 'OK',
    },
    {
      name: 'write a new file in a read-write dir',
      args: () => ['write', join(world.rwDir, 'new.txt')],
      landlock: 'OK',
      off: 'OK',
    },
    {
      name: 'write a new file in a read-only dir',
      args: () => ['write', join(world.roDir, 'new.txt')],
      landlock: 'EACCES',
      off: 'OK',
    },
    {
      name: 'truncate a file in a read-only dir',
      args: () => ['truncate', join(world.roDir, 'file.txt')],
      landlock: 'EACCES',
      off: 'OK',
    },
    {
      name: 'truncate a file in a read-write dir',
      args: () => ['truncate', join(world.rwDir, 'new.txt')],
      landlock: 'OK',
      off: 'OK',
    },
    {
      name: 'write /dev/null (baseline read-write)',
      args: () => ['write', '/dev/null'],
      landlock: 'OK',
      off: 'OK',
    },
    {
      name: 'read /dev/urandom (baseline read-only)',
      args: () => ['read', '/dev/urandom'],
      landlock: 'OK',
      off: 'OK',
    },
    {
      name: 'write /dev/urandom (read-only)',
      args: () => ['write', '/dev/urandom'],
      landlock: 'EACCES',
      off: 'OK',
    },
  ] as const)('$name: $landlock with Landlock, $off without', async (c) => {
    // Sequential on purpose: the truncate rows use the file the write rows create.
    expect(await attempt(c.args(), 'off')).toBe(c.off);
    expect(await attempt(c.args())).toBe(c.landlock);
  });

  test('shell redirections to /dev/null and into the read-write dir work; into a read-only dir fail', async () => {
    const script = `echo a > /dev/null && echo ok1; echo b > ${world.rwDir}/sh.txt && echo ok2; echo c > ${world.roDir}/sh.txt || echo denied`;
    const result = await runLaunched(worldSpec(world, ['sh', '-c', script]));
    expect(result.stdout).toBe('ok1\nok2\ndenied\n');
    expect(result.stderr).toMatch(/Permission denied/);
  });

  test('executing a binary outside every rule fails with exit 126; the same binary under a rule runs', async () => {
    const outside = join(world.hiddenDir, 'true');
    await copyFile('/bin/true', outside);
    await chmod(outside, 0o755);
    const denied = await runLaunched(worldSpec(world, [outside]));
    expect(denied).toMatchObject({
      code: 126,
      stderr: `openshell-launcher: exec: ${outside}: Permission denied\n`,
    });
    expect(await runLaunched(worldSpec(world, [outside], { landlock: 'off' }))).toMatchObject({
      code: 0,
      stderr: '',
    });
  });

  test('a rule path that does not exist is skipped with a note, and the command runs', async () => {
    const result = await runLaunched(
      worldSpec(world, [world.probe, 'read', join(world.roDir, 'file.txt')], {
        extraReadOnly: ['/nonexistent-openshell-path'],
      }),
    );
    expect(result).toMatchObject({ code: 0, stdout: 'OK\n' });
    expect(result.stderr).toBe(
      'openshell-launcher: note: landlock: no read-only rule for /nonexistent-openshell-path: No such file or directory\n',
    );
  });
});

describe('scoping (Landlock ABI 6)', () => {
  let outsider: ChildProcess | undefined;
  let server: Server | undefined;
  const abstractName = `openshell-test-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    // A same-uid process outside any Landlock domain: file permissions and uid checks
    // would let the sandbox signal it; only the signal scope stops that.
    outsider = spawn(
      'setpriv',
      ['--reuid=10001', '--regid=10001', '--clear-groups', 'sleep', '60'],
      { stdio: 'ignore' },
    );
    await waitForCommand(outsider, 'sleep');
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server?.listen({ path: `\0${abstractName}` }, resolve));
  });

  afterAll(async () => {
    outsider?.kill('SIGKILL');
    await new Promise((resolve) => server?.close(resolve));
  });

  test('signalling a same-uid process outside the sandbox: EPERM with Landlock, OK without', async () => {
    const pid = String(outsider?.pid);
    expect(await attempt(['kill', pid], 'off')).toBe('OK');
    expect(await attempt(['kill', pid])).toBe('EPERM');
  });

  test('connecting to an abstract unix socket outside the sandbox: EPERM with Landlock, OK without', async () => {
    expect(await attempt(['connect-abstract', abstractName], 'off')).toBe('OK');
    expect(await attempt(['connect-abstract', abstractName])).toBe('EPERM');
  });

  test('signals inside the sandbox still work (a shell kills its own background job)', async () => {
    const result = await runLaunched(
      worldSpec(world, ['sh', '-c', 'sleep 30 & kill $! && wait $!; echo status=$?']),
    );
    expect(result.stdout).toBe('status=143\n');
  });
});

describe("compatibility modes when Landlock is missing (simulated by the spec's test switch)", () => {
  test('hard_requirement refuses to start and executes nothing', async () => {
    const payload = withLandlockUnavailable(
      encodeLaunchSpec(worldSpec(world, [world.probe, 'env'])),
    );
    const result = await runRawLauncher({ payload });
    expect(result.code).toBe(125);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^openshell-launcher: landlock: Landlock is unavailable \(simulated by the spec's test_landlock_unavailable switch\) and landlock.compatibility is hard_requirement; refusing to start/,
    );
  });

  test('best_effort warns loudly and runs without Landlock', async () => {
    const secret = join(world.hiddenDir, 'secret.txt');
    const spec = worldSpec(world, [world.probe, 'read', secret], { landlock: 'best_effort' });
    const result = await runRawLauncher({
      payload: withLandlockUnavailable(encodeLaunchSpec(spec)),
    });
    expect(result).toMatchObject({ code: 0, stdout: 'OK\n' });
    expect(result.stderr).toMatch(
      /^openshell-launcher: WARNING: landlock: Landlock is unavailable .*NOT restricted by Landlock/,
    );
  });

  test('control: best_effort on this kernel applies Landlock without any warning', async () => {
    const secret = join(world.hiddenDir, 'secret.txt');
    const result = await runLaunched(
      worldSpec(world, [world.probe, 'read', secret], { landlock: 'best_effort' }),
    );
    expect(result).toMatchObject({ code: 0, stdout: 'EACCES\n', stderr: '' });
  });
});
