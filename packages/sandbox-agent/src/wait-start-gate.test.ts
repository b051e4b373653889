import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readlinkSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { waitForStartGate } from './wait-start-gate.js';

// A FIFO stands in for the driver's gate socket: a real inherited-style fd, a real writer.
let dir: string;
function openGate(): { fd: number; fifo: string; writer: number } {
  dir = mkdtempSync(join(tmpdir(), 'gate-'));
  const fifo = join(dir, 'gate');
  execFileSync('mkfifo', [fifo]);
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  return { fd, fifo, writer };
}
function fdTarget(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${String(fd)}`);
  } catch {
    return undefined;
  }
}
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('waitForStartGate', () => {
  test('waits for the byte, then resolves and closes the fd', async () => {
    const { fd, fifo, writer } = openGate();
    let settled = false;
    const gate = waitForStartGate(fd).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    writeSync(writer, '1');
    await expect(gate).resolves.toBeUndefined();
    closeSync(writer);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fdTarget(fd)).not.toBe(fifo);
  });

  test('refuses to go on when the driver closes the gate without the byte', async () => {
    const { fd, writer } = openGate();
    const gate = waitForStartGate(fd);
    closeSync(writer);
    await expect(gate).rejects.toMatchObject({
      code: 'ERR_INPUT_UNREADABLE',
      message: expect.stringMatching(/never reported ready/) as unknown,
    });
  });

  test('a fd that is not open is an error, not a silent start', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gate-'));
    await expect(waitForStartGate(987)).rejects.toMatchObject({ code: 'ERR_INPUT_UNREADABLE' });
  });
});
