import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SandboxHandle } from '../compute-driver.js';
import { createLocalDriver } from './create-local-driver.js';
import { readStartTime } from './sandbox-state.js';
import {
  createDriverFixture,
  makeSpec,
  type DriverFixture,
} from './test-helpers/driver-fixture.js';
import { shInSandbox } from './test-helpers/exec-in-sandbox.js';
import { listHostObjects } from './test-helpers/list-host-objects.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./test-helpers/create-in-child.ts', import.meta.url));
let fixture: DriverFixture;

beforeAll(async () => {
  fixture = await createDriverFixture({ prefix: 'otc', pool: '10.231.4.0/24', uidBase: 231_400 });
});

afterAll(async () => {
  await fixture.cleanup();
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('survival and reattach', () => {
  test('the tree survives its creator exiting and a new driver instance finds it by id', async () => {
    const spec = makeSpec('survivor', {
      command: ['/bin/sh', '-c', 'while [ ! -e /tmp/stop ]; do sleep 0.05; done; exit 7'],
    });
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', CHILD, JSON.stringify(fixture.options), JSON.stringify(spec)],
      {
        cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      },
    );
    const created = JSON.parse(stdout) as SandboxHandle;
    expect(isAlive(created.initPid)).toBe(true);

    const restarted = await createLocalDriver(fixture.options);
    await expect(restarted.get('survivor')).resolves.toMatchObject({
      state: 'running',
      pid: created.pid,
      initPid: created.initPid,
      network: created.network,
    });
    expect((await restarted.list()).map((sandbox) => sandbox.id)).toContain('survivor');

    expect((await shInSandbox(restarted, 'survivor', 'touch /tmp/stop')).code).toBe(0);
    await expect(restarted.waitExit('survivor')).resolves.toEqual({ code: 7 });
    await expect(restarted.get('survivor')).resolves.toMatchObject({
      state: 'exited',
      exit: { code: 7 },
    });
    await expect(restarted.delete('survivor')).resolves.toBe(true);
  }, 30_000);

  test('a recycled pid is neither reported as the sandbox nor killed by delete', async () => {
    const created = await fixture.driver.create(makeSpec('recycled'));
    const recordFile = `${fixture.options.stateDir}/sandboxes/recycled/state.json`;
    const record = JSON.parse(await readFile(recordFile, 'utf8')) as Record<string, unknown>;
    // Pretend the recorded pid now belongs to an unrelated live process: this test runner.
    await writeFile(recordFile, JSON.stringify({ ...record, pid: process.pid }));
    const restarted = await createLocalDriver(fixture.options);
    await expect(restarted.get('recycled')).resolves.toMatchObject({ state: 'exited' });
    await expect(restarted.delete('recycled')).resolves.toBe(true);
    expect(isAlive(process.pid)).toBe(true);
    // A zombie awaiting its reaper counts as ended.
    expect(await readStartTime(created.initPid)).toBeUndefined();
  });

  test.for([
    { exit: 'exit 3', code: 3 },
    { exit: 'kill -TERM $$', code: 128 + 15 },
  ])('waitExit reports the agent ending with "$exit" as $code', async ({ exit, code }) => {
    await fixture.driver.create(makeSpec('ends', { command: ['/bin/sh', '-c', exit] }));
    await expect(fixture.driver.waitExit('ends')).resolves.toEqual({ code });
    await expect(fixture.driver.get('ends')).resolves.toMatchObject({
      state: 'exited',
      exit: { code },
    });
    await fixture.driver.delete('ends');
  });
});

describe('deletion', () => {
  test('leaves nothing: netns, links, firewall, mounts, cgroups, processes, lease, files', async () => {
    const before = await listHostObjects(fixture);
    await fixture.driver.create(
      makeSpec('leak', {
        limits: { memoryBytes: 128 * 1024 * 1024, pids: 64, cpuMillis: 500 },
        token: 'leak-token',
        command: [
          '/bin/sh',
          '-c',
          'setpriv --reuid "$OPENSHELL_SANDBOX_UID" --regid "$OPENSHELL_SANDBOX_GID" --clear-groups sleep infinity & exec sleep infinity',
        ],
      }),
    );
    const during = await listHostObjects(fixture);
    // Positive control: the same listing sees every kind of object while the sandbox runs.
    for (const kind of [
      'netns',
      'links',
      'firewall',
      'mounts',
      'cgroups',
      'processes',
      'leases',
      'files',
    ]) {
      expect(during[kind]?.length, kind).toBeGreaterThan(before[kind]?.length ?? 0);
    }
    const reported = await fixture.driver.resources('leak');
    expect(during.netns).toEqual(expect.arrayContaining([...reported.netns]));
    expect(during.cgroups).toEqual(expect.arrayContaining([...reported.cgroups]));

    await expect(fixture.driver.delete('leak')).resolves.toBe(true);
    expect(await listHostObjects(fixture)).toEqual(before);
    await expect(fixture.driver.resources('leak')).rejects.toMatchObject({
      code: 'ERR_SANDBOX_NOT_FOUND',
    });
  });

  test('recreating an id right after deletion gets new names and a new address block', async () => {
    const first = await fixture.driver.create(makeSpec('again'));
    await fixture.driver.delete('again');
    const second = await fixture.driver.create(makeSpec('again'));
    expect(second.network.namespace).not.toBe(first.network.namespace);
    expect(second.network.hostInterface).not.toBe(first.network.hostInterface);
    expect(second.network.hostAddress).not.toBe(first.network.hostAddress);
    expect(second.identity.uid).not.toBe(first.identity.uid);
    expect(second.state).toBe('running');
    await fixture.driver.delete('again');
  });

  test('keepSandboxDir keeps /sandbox; the next sandbox with that id gets it, re-owned', async () => {
    const first = await fixture.driver.create(makeSpec('keeper'));
    await shInSandbox(fixture.driver, 'keeper', 'echo kept > /sandbox/work');
    await fixture.driver.delete('keeper', { keepSandboxDir: true });
    await expect(readFile(`${first.sandboxDir}/work`, 'utf8')).resolves.toBe('kept\n');
    const second = await fixture.driver.create(makeSpec('keeper'));
    const result = await shInSandbox(
      fixture.driver,
      'keeper',
      'cat /sandbox/work && echo more >> /sandbox/work',
    );
    expect(result).toMatchObject({ code: 0, stdout: 'kept\n' });
    expect(second.identity.uid).not.toBe(first.identity.uid);
    await fixture.driver.delete('keeper');
    await expect(readFile(`${second.sandboxDir}/work`, 'utf8')).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  test('deleting twice is harmless: the second call reports the id as unknown', async () => {
    await fixture.driver.create(makeSpec('twice'));
    await expect(fixture.driver.delete('twice')).resolves.toBe(true);
    await expect(fixture.driver.delete('twice')).resolves.toBe(false);
  });
});

describe('refusals', () => {
  test('an existing id is refused and the running sandbox is untouched', async () => {
    const original = await fixture.driver.create(makeSpec('taken'));
    await expect(fixture.driver.create(makeSpec('taken'))).rejects.toMatchObject({
      code: 'ERR_SANDBOX_EXISTS',
    });
    await expect(fixture.driver.get('taken')).resolves.toMatchObject({
      state: 'running',
      pid: original.pid,
    });
    await fixture.driver.delete('taken');
  });

  test('unknown ids: get is undefined, delete is false, waitExit and resources fail', async () => {
    await expect(fixture.driver.get('nobody')).resolves.toBeUndefined();
    await expect(fixture.driver.delete('nobody')).resolves.toBe(false);
    await expect(fixture.driver.waitExit('nobody')).rejects.toMatchObject({
      code: 'ERR_SANDBOX_NOT_FOUND',
    });
  });

  test.for(['Upper', '-dash', 'a'.repeat(33), 'dot.ted', '../escape'])(
    'id %j is refused',
    async (id) => {
      await expect(fixture.driver.create(makeSpec(id))).rejects.toMatchObject({
        code: 'ERR_USAGE',
      });
    },
  );

  test('a token that also appears in the environment is refused', async () => {
    const spec = makeSpec('leaky', { token: 's3cret-value', env: { LEAK: 'x s3cret-value' } });
    await expect(fixture.driver.create(spec)).rejects.toMatchObject({ code: 'ERR_USAGE' });
    await expect(fixture.driver.get('leaky')).resolves.toBeUndefined();
  });

  test('a firewall that fails to load stops creation and rolls everything back', async () => {
    const before = await listHostObjects(fixture);
    const broken = await createLocalDriver({ ...fixture.options, tools: { nft: '/bin/false' } });
    await expect(broken.create(makeSpec('nofw'))).rejects.toMatchObject({
      code: 'ERR_COMPUTE_DRIVER_FAILED',
      details: { stage: 'nftables' },
    });
    expect(await listHostObjects(fixture)).toEqual(before);
  });

  test('a missing host tool is reported when the driver starts', async () => {
    await expect(
      createLocalDriver({ ...fixture.options, tools: { bwrap: '/nonexistent/bwrap' } }),
    ).rejects.toMatchObject({ code: 'ERR_HOST_UNSUPPORTED' });
  });

  test('a limit without a cgroup controller is refused; without limits the same host works', async () => {
    const unified = '/sys/fs/cgroup/unified';
    const noControllers = await createLocalDriver(fixture.options, {
      cgroupLayout: { unified, controllers: {} },
    });
    await expect(
      noControllers.create(makeSpec('nomem', { limits: { memoryBytes: 64 * 1024 * 1024 } })),
    ).rejects.toMatchObject({ code: 'ERR_HOST_UNSUPPORTED' });
    await expect(noControllers.create(makeSpec('nomem'))).resolves.toMatchObject({
      state: 'running',
    });
    await noControllers.delete('nomem');
  });
});
