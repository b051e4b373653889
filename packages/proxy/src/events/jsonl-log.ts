import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface JsonlLogOptions {
  readonly path: string;
  /** Rotate when the file would grow past this many bytes. Default 10 MiB. */
  readonly maxBytes?: number;
  /** Rotated files kept (`log.1` … `log.N`). Default 3. */
  readonly keep?: number;
}

export interface JsonlLog {
  write(record: unknown): void;
  close(): void;
}

/**
 * Appends one JSON object per line and rotates by size (`file` → `file.1` → … →
 * `file.N`, the oldest dropped). Writes are synchronous on an O_APPEND descriptor: each
 * decision is in the file before the client sees its answer, and lines stay whole.
 * A write failure is reported once to `onError` and never breaks request handling.
 *
 * @example
 * const log = createJsonlLog({ path: '/var/log/openshell/proxy.jsonl', maxBytes: 10 << 20, keep: 3 });
 */
export function createJsonlLog(
  options: JsonlLogOptions,
  onError: (error: unknown) => void = () => {},
): JsonlLog {
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const keep = options.keep ?? 3;
  let reported = false;
  mkdirSync(dirname(options.path), { recursive: true });
  let fd = openSync(options.path, 'a', 0o600);
  let size = fstatSync(fd).size;

  function rotate(): void {
    closeSync(fd);
    rmSync(`${options.path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) {
      try {
        renameSync(`${options.path}.${i}`, `${options.path}.${i + 1}`);
      } catch {
        // That generation does not exist yet.
      }
    }
    if (keep >= 1) renameSync(options.path, `${options.path}.1`);
    else rmSync(options.path, { force: true });
    fd = openSync(options.path, 'a', 0o600);
    size = 0;
  }

  return {
    write(record: unknown): void {
      const line = `${JSON.stringify(record)}\n`;
      const bytes = Buffer.byteLength(line);
      try {
        if (size > 0 && size + bytes > maxBytes) rotate();
        writeSync(fd, line);
        size += bytes;
      } catch (error) {
        if (!reported) onError(error);
        reported = true;
      }
    },
    close(): void {
      closeSync(fd);
    },
  };
}
