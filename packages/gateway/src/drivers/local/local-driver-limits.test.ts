import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createDriverFixture,
  makeSpec,
  type DriverFixture,
} from './test-helpers/driver-fixture.js';
import { shInSandbox } from './test-helpers/exec-in-sandbox.js';
import { listPidsOfUid } from './list-resources.js';

// cgroup limits for real (v1 memory/pids/cpu on this host, v2 where enabled). Commands
// run through execInSandbox, which joins the sandbox's cgroups like the agent's children.
const MIB = 1024 * 1024;
const PIDS_MAX = 24;
let fixture: DriverFixture;

beforeAll(async () => {
  fixture = await createDriverFixture({ prefix: 'otl', pool: '10.231.3.0/24', uidBase: 231_300 });
  await Promise.all([
    fixture.driver.create(makeSpec('mem', { limits: { memoryBytes: 64 * MIB } })),
    fixture.driver.create(makeSpec('pids', { limits: { pids: PIDS_MAX } })),
    fixture.driver.create(makeSpec('cpu', { limits: { cpuMillis: 100 } })),
    fixture.driver.create(makeSpec('free')),
  ]);
}, 30_000);

afterAll(async () => {
  await fixture.cleanup();
});

/**
 * Reads `name` from whichever of the sandbox's cgroup directories has it (v1 or v2) and,
 * given `key`, reports that key (a hybrid host has a cpu.stat in both hierarchies).
 */
async function readCgroupFile(id: string, name: string, key?: string): Promise<string> {
  const { cgroups } = await fixture.driver.resources(id);
  for (const dir of cgroups) {
    const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    if (text !== undefined && (key === undefined || new RegExp(`^${key} `, 'm').test(text)))
      return text;
  }
  throw new Error(`no cgroup of sandbox ${id} has ${name}`);
}

function readCounter(text: string, key: string): number {
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return Number(match?.[1] ?? Number.NaN);
}

describe('memory limit', () => {
  const hog = (mib: number) => `exec dd if=/dev/zero of=/dev/null bs=${String(mib)}M count=1`;

  test('an allocation within the limit succeeds (positive control)', async () => {
    await expect(shInSandbox(fixture.driver, 'mem', hog(16))).resolves.toMatchObject({ code: 0 });
  });

  test('the same allocation above the limit works in an unlimited sandbox (positive control)', async () => {
    await expect(shInSandbox(fixture.driver, 'free', hog(256))).resolves.toMatchObject({ code: 0 });
  });

  test('a hog above the limit is OOM-killed', async () => {
    const result = await shInSandbox(fixture.driver, 'mem', hog(256));
    // nsenter re-raises its child's fatal signal on itself.
    expect(result.signal ?? result.code).toBe('SIGKILL');
    const events = await readCgroupFile('mem', 'memory.oom_control').catch(() =>
      readCgroupFile('mem', 'memory.events'),
    );
    expect(readCounter(events, 'oom_kill')).toBeGreaterThanOrEqual(1);
  });
});

describe('pids limit', () => {
  const startSleepers = (count: number) =>
    `i=0; while [ $i -lt ${String(count)} ]; do sleep 20 >/dev/null 2>&1 & i=$((i+1)); done; echo started`;

  test('an unlimited sandbox starts 40 processes (positive control)', async () => {
    const result = await shInSandbox(fixture.driver, 'free', startSleepers(40));
    expect(result.stdout.trim()).toBe('started');
    const current = Number(await readCgroupFile('free', 'pids.current'));
    expect(current).toBeGreaterThanOrEqual(40);
  });

  test('a fork bomb is held at the limit and deletion still ends it', async () => {
    const { identity } = (await fixture.driver.get('pids')) ?? { identity: { uid: -1 } };
    // Unbounded on its own: it only ends when the sandbox is deleted below.
    const bomb = shInSandbox(fixture.driver, 'pids', 'b() { b & b; }; b');
    let held = 0;
    for (let attempt = 0; attempt < 500 && held === 0; attempt += 1) {
      await sleep(20);
      held = readCounter(await readCgroupFile('pids', 'pids.events'), 'max');
    }
    expect(held).toBeGreaterThan(0);
    expect(Number(await readCgroupFile('pids', 'pids.current'))).toBeLessThanOrEqual(PIDS_MAX);
    expect((await listPidsOfUid(identity.uid)).length).toBeLessThanOrEqual(PIDS_MAX);

    await expect(fixture.driver.delete('pids')).resolves.toBe(true);
    const ended = await bomb;
    expect(ended.code).not.toBe(0);
    expect(await listPidsOfUid(identity.uid)).toEqual([]);
  });
});

describe('cpu limit', () => {
  // `times` prints the shell's own and then its children's user and system time.
  const burn = "timeout 2 sh -c 'while :; do :; done'; times";
  function childCpuSeconds(stdout: string): number {
    const line = stdout.trim().split('\n').pop() ?? '';
    const seconds = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map(
      (m) => Number(m[1]) * 60 + Number(m[2]),
    );
    return seconds.reduce((a, b) => a + b, 0);
  }

  test('a busy loop without a limit gets well over a tenth of a core (positive control)', async () => {
    const { stdout } = await shInSandbox(fixture.driver, 'free', burn);
    expect(childCpuSeconds(stdout)).toBeGreaterThan(0.5);
  });

  test('a busy loop under cpuMillis 100 gets about a tenth of a core and is throttled', async () => {
    const { stdout } = await shInSandbox(fixture.driver, 'cpu', burn);
    // 2 s at 10 % is 0.2 s; CFS may overrun by about one period (0.1 s).
    expect(childCpuSeconds(stdout)).toBeLessThan(0.35);
    const stats = await readCgroupFile('cpu', 'cpu.stat', 'nr_throttled');
    expect(readCounter(stats, 'nr_throttled')).toBeGreaterThan(0);
  });
});
