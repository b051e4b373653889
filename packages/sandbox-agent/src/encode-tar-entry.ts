import { Header, Pax } from 'tar';
import type { GuardedEntry } from './extraction-guard.js';

const BLOCK = 512;
/** Two zero blocks end a tar archive (POSIX ustar). */
export const TAR_END = Buffer.alloc(2 * BLOCK);

const DEFAULT_MODE = { File: 0o644, Directory: 0o755, SymbolicLink: 0o777, Link: 0o644 } as const;

/**
 * The header block(s) of a guarded entry, written afresh rather than copied from the
 * upload: the extractor parses only names this agent checked and encoded (ustar, with a
 * pax record for long names), so no parser differential between the guard and GNU tar can
 * smuggle another path through. Ownership is dropped and setuid/setgid/sticky bits cleared.
 */
export function encodeTarHeader(
  entry: GuardedEntry,
  meta: {
    readonly mode?: number | undefined;
    readonly size: number;
    readonly mtime?: Date | undefined;
  },
): Buffer {
  const fields = {
    path: entry.type === 'Directory' ? `${entry.path}/` : entry.path,
    type: entry.type,
    mode: (meta.mode ?? DEFAULT_MODE[entry.type]) & 0o777,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    size: entry.type === 'File' ? meta.size : 0,
    mtime: meta.mtime ?? new Date(0),
    ...(entry.linkpath === undefined ? {} : { linkpath: entry.linkpath }),
  };
  const header = new Header(fields);
  const needPax = header.encode();
  const block = header.block ?? Buffer.alloc(BLOCK);
  if (!needPax) return block;
  const pax = new Pax({
    path: fields.path,
    ...(entry.linkpath === undefined ? {} : { linkpath: entry.linkpath }),
  });
  return Buffer.concat([pax.encode(), block]);
}

/** Zero bytes that round a body of `size` bytes up to the next block. */
export function tarPadding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}
