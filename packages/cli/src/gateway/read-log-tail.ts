import { open } from 'node:fs/promises';

/** The last `lines` lines of a log file ('' when it is missing), reading at most 64 KiB. */
export async function readLogTail(file: string, lines: number): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    // A missing log simply has no tail to show; the caller's message still stands.
    return '';
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const text = buffer.toString('utf8').replace(/\n$/, '');
    if (text === '') return '';
    return text.split('\n').slice(-lines).join('\n');
  } finally {
    await handle.close();
  }
}
