import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readLogTail } from './read-log-tail.js';

const dir = mkdtempSync(join(tmpdir(), 'log-tail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readLogTail', () => {
  test('keeps the last non-empty lines', async () => {
    const file = join(dir, 'a.log');
    writeFileSync(file, "one\ntwo\n\nthree\nbwrap: Can't make symlink at /bin: File exists\n\n");
    await expect(readLogTail(file, 2)).resolves.toBe(
      "three\nbwrap: Can't make symlink at /bin: File exists",
    );
  });

  test('bounds what it returns, from the end of a large log', async () => {
    const file = join(dir, 'b.log');
    writeFileSync(file, `${'x'.repeat(100_000)}\nthe last words\n`);
    const tail = await readLogTail(file, 3, 50);
    expect(tail.length).toBeLessThanOrEqual(51);
    expect(tail.endsWith('the last words')).toBe(true);
  });

  test('a missing log is an empty tail, not an error', async () => {
    await expect(readLogTail(join(dir, 'none.log'))).resolves.toBe('');
  });
});
