import { open } from 'node:fs/promises';

/** How much of a log's end is read; the lines kept must fit in an error reason. */
const TAIL_BYTES = 4096;

/**
 * The last `lines` non-empty lines of a log file (at most `maxChars` characters in all), or ''
 * when there is no such file. Used to say why a sandbox's agent died (a bubblewrap or launcher
 * message) in the error a user sees, instead of only its exit code.
 */
export async function readLogTail(path: string, lines = 3, maxChars = 400): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const kept = buffer
      .toString('utf8')
      .split('\n')
      .map((line) => line.trimEnd())
      .filter((line) => line !== '')
      .slice(-lines)
      .join('\n');
    return kept.length > maxChars ? `…${kept.slice(-maxChars)}` : kept;
  } finally {
    await handle.close();
  }
}
