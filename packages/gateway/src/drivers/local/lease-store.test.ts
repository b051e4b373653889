import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseIpv4Cidr } from './ipv4.js';
import { createLeaseStore, type LeaseStore } from './lease-store.js';

let dir: string;
let file: string;
const open = (pool = '10.200.0.0/28'): LeaseStore =>
  createLeaseStore({ file, pool: parseIpv4Cidr(pool), uidBase: 300_000 });

beforeEach(async () => {
  dir = await mkdtemp('/tmp/openshell-leases-');
  file = join(dir, 'leases.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createLeaseStore', () => {
  test('a lease is a /30 with host .1 and sandbox .2, block 0 reserved, uid = base + block', async () => {
    await expect(open().acquire('a')).resolves.toMatchObject({
      index: 1,
      hostAddress: '10.200.0.5',
      sandboxAddress: '10.200.0.6',
      prefixLength: 30,
      uid: 300_001,
      gid: 300_001,
    });
  });

  test('acquiring the same id twice returns the same lease', async () => {
    const store = open();
    const first = await store.acquire('a');
    await expect(store.acquire('a')).resolves.toEqual(first);
  });

  test('a freed block is reused last (next-fit), and tags differ per lease', async () => {
    const store = open();
    const a = await store.acquire('a');
    await store.release('a');
    const b = await store.acquire('b');
    expect(b.index).not.toBe(a.index);
    expect(b.tag).not.toBe(a.tag);
    await store.acquire('c');
    await expect(store.acquire('d')).resolves.toMatchObject({ index: a.index }); // wrapped around
  });

  test('an exhausted pool fails with a message naming the fix', async () => {
    const store = open('10.200.0.0/29'); // two blocks, one reserved
    await store.acquire('a');
    await expect(store.acquire('b')).rejects.toMatchObject({
      code: 'ERR_COMPUTE_DRIVER_FAILED',
      message: expect.stringContaining('addressPool'),
    });
  });

  test('two stores on one file (two gateways) never hand out the same block', async () => {
    const ids = Array.from({ length: 3 }, (_, i) => `s${String(i)}`);
    const leases = await Promise.all(
      ids.flatMap((id) => [
        open('10.200.0.0/27').acquire(`x-${id}`),
        open('10.200.0.0/27').acquire(`y-${id}`),
      ]),
    );
    expect(new Set(leases.map((lease) => lease.index)).size).toBe(leases.length);
    const persisted = JSON.parse(await readFile(file, 'utf8')) as { leases: object };
    expect(Object.keys(persisted.leases)).toHaveLength(6);
  });

  test('a lock left by a dead process is broken; one held by a live one is respected', async () => {
    await writeFile(`${file}.lock`, '999999999');
    await expect(open().acquire('a')).resolves.toMatchObject({ index: 1 });
    await writeFile(`${file}.lock`, String(process.pid));
    const pending = open().acquire('b');
    let settled = false;
    void pending.finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    await rm(`${file}.lock`);
    await expect(pending).resolves.toMatchObject({ index: 2 });
  });

  test('release reports whether there was a lease', async () => {
    const store = open();
    await store.acquire('a');
    await expect(store.release('a')).resolves.toBe(true);
    await expect(store.release('a')).resolves.toBe(false);
  });
});
