import { createWriteStream } from 'node:fs';
import { link, lstat, mkdir, readlink, realpath, symlink, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { OpenShellError } from '@openshell/policy-schema';
import tar from 'tar-stream';

export interface ExtractResult {
  readonly entries: number;
  /** Bytes of file content written. */
  readonly bytes: number;
}

function refuse(entry: string, why: string): OpenShellError {
  return new OpenShellError(
    'ERR_TRANSFER_REFUSED',
    `refusing archive entry "${entry}": ${why}; nothing outside the destination is written`,
    { details: { entry } },
  );
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The entry's path relative to the destination, normalised; refuses absolute names and any
 * `..` that climbs above the destination (the classic tar-slip).
 */
function toSafeRelative(name: string): string {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw refuse(name, 'absolute path');
  const normal = posix.normalize(name.replace(/\/+$/, ''));
  if (normal === '..' || normal.startsWith('../')) throw refuse(name, 'path escapes with ".."');
  return normal === '.' ? '' : normal;
}

/**
 * Extracts a tar stream into `dest` (created when missing) and refuses, with
 * ERR_TRANSFER_REFUSED, anything that would place or point outside it: absolute names, `..`,
 * symlinks whose target resolves outside, hard links to files outside, writes through a
 * symlink planted by an earlier entry, and device or fifo entries. The checks use real paths
 * after each directory is created, because a lexical check alone misses `a -> .` followed by
 * `b -> a/..`.
 */
export async function extractTar(source: Readable, dest: string): Promise<ExtractResult> {
  await mkdir(dest, { recursive: true });
  const root = await realpath(resolve(dest));
  const links: { name: string; path: string }[] = [];
  let entries = 0;
  let bytes = 0;

  /** Creates the parent of `rel` and checks that its real path is inside the root. */
  const safeParent = async (entryName: string, rel: string): Promise<string> => {
    const parent = dirname(join(root, rel));
    await mkdir(parent, { recursive: true });
    const real = await realpath(parent);
    if (!isInside(root, real))
      throw refuse(entryName, 'its directory resolves outside the destination');
    return join(real, posix.basename(rel));
  };
  /** Removes a non-directory already at `path`, so no write follows a planted symlink. */
  const clearTarget = async (path: string): Promise<void> => {
    const st = await lstat(path).catch(() => undefined);
    if (st !== undefined && !st.isDirectory()) await unlink(path);
  };

  const extract = tar.extract();
  // tar-stream 3's extract is a streamx Writable, so it is fed by hand (with backpressure)
  // rather than through node's pipeline.
  const feeding = (async () => {
    for await (const chunk of source) {
      if (!extract.write(chunk as Buffer)) await once(extract, 'drain');
    }
    extract.end(() => undefined);
  })();
  feeding.catch((err: unknown) => {
    extract.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  try {
    for await (const entry of extract) {
      const { header } = entry;
      const rel = toSafeRelative(header.name);
      const type = header.type ?? 'file';
      entries += 1;
      if (rel === '' && type === 'directory') {
        entry.resume();
        continue;
      }
      if (rel === '') throw refuse(header.name, 'empty name');
      const target = await safeParent(header.name, rel);
      switch (type) {
        case 'directory': {
          const st = await lstat(target).catch(() => undefined);
          if (st !== undefined && !st.isDirectory()) await unlink(target);
          await mkdir(target, { recursive: true, mode: (header.mode ?? 0o755) & 0o777 });
          entry.resume();
          break;
        }
        case 'file':
        case 'contiguous-file': {
          await clearTarget(target);
          // 'wx' = O_CREAT|O_EXCL: never opens an existing file or follows a symlink.
          await pipeline(
            entry,
            createWriteStream(target, { flags: 'wx', mode: (header.mode ?? 0o644) & 0o777 }),
          );
          bytes += header.size ?? 0;
          break;
        }
        case 'symlink': {
          const linkname = header.linkname ?? '';
          if (linkname === '' || isAbsolute(linkname)) {
            throw refuse(header.name, `symlink target "${linkname}" is absolute`);
          }
          if (!isInside(root, resolve(dirname(target), linkname))) {
            throw refuse(
              header.name,
              `symlink target "${linkname}" points outside the destination`,
            );
          }
          await clearTarget(target);
          await symlink(linkname, target);
          links.push({ name: header.name, path: target });
          entry.resume();
          break;
        }
        case 'link': {
          const linkRel = toSafeRelative(header.linkname ?? '');
          const real = await realpath(join(root, linkRel)).catch(() => undefined);
          if (real === undefined || !isInside(root, real)) {
            throw refuse(
              header.name,
              `hard link target "${header.linkname ?? ''}" is outside the destination or missing`,
            );
          }
          const st = await lstat(real);
          if (!st.isFile()) throw refuse(header.name, 'hard link target is not a regular file');
          await clearTarget(target);
          await link(real, target);
          entry.resume();
          break;
        }
        case 'character-device':
        case 'block-device':
        case 'fifo':
          throw refuse(
            header.name,
            `entry type ${type} is not allowed (only files, directories and links)`,
          );
      }
    }
    await feeding;
  } catch (err) {
    source.destroy();
    extract.destroy();
    await feeding.catch(() => {
      // The extraction error above is the one to report; the pipeline's is its echo.
    });
    throw err;
  }
  // A symlink that was harmless when written can point outside once later entries exist
  // (`s -> t/..` then `t -> .`); resolve each at the end and remove those that escape.
  for (const l of links) {
    const real = await realpath(l.path).catch(() => undefined);
    const target = real ?? resolve(dirname(l.path), await readlink(l.path));
    if (!isInside(root, target)) {
      await unlink(l.path);
      throw refuse(l.name, 'symlink resolves outside the destination');
    }
  }
  return { entries, bytes };
}
