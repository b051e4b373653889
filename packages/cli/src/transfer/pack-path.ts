import { createReadStream } from 'node:fs';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { basename, join, posix, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OpenShellError } from '@openshell/policy-schema';
import ignore, { type Ignore } from 'ignore';
import tar from 'tar-stream';

export interface PackResult {
  /** The tar byte stream to send. */
  readonly stream: Readable;
  /** Resolves with the number of entries once the archive is complete. */
  readonly done: Promise<{ entries: number }>;
}

interface IgnoreScope {
  /** Directory (relative to the packed root, posix) that holds the .gitignore. */
  readonly dir: string;
  readonly rules: Ignore;
}

async function loadGitignore(absDir: string, relDir: string): Promise<IgnoreScope | undefined> {
  const text = await readFile(join(absDir, '.gitignore'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : { dir: relDir, rules: ignore().add(text) };
}

/** True when any .gitignore in an ancestor directory ignores `rel` (posix, relative to root). */
function isIgnored(scopes: readonly IgnoreScope[], rel: string, isDir: boolean): boolean {
  return scopes.some((scope) => {
    const sub = scope.dir === '' ? rel : posix.relative(scope.dir, rel);
    if (sub === '' || sub.startsWith('..')) return false;
    return scope.rules.ignores(isDir ? `${sub}/` : sub);
  });
}

/**
 * Packs a file or directory as a tar stream whose entries keep the source's basename
 * (`./proj` → `proj/...`), like `docker cp`. With `gitIgnore`, paths matched by any
 * .gitignore on the way down are skipped, and `.git` itself is never sent (it can hold
 * credentials in its config). Symlinks are sent as symlinks; the receiving side refuses
 * those that point outside the destination.
 */
export function packPath(source: string, options: { gitIgnore: boolean }): PackResult {
  const pack = tar.pack();
  const absRoot = resolve(source);
  const top = basename(absRoot);
  let entries = 0;

  const addEntry = async (
    abs: string,
    name: string,
    scopes: readonly IgnoreScope[],
  ): Promise<void> => {
    const st = await lstat(abs);
    const base = { name, mode: st.mode & 0o7777, mtime: st.mtime };
    if (st.isDirectory()) {
      pack.entry({ ...base, type: 'directory' });
      entries += 1;
      const rel = posix.relative(top, name);
      const own = options.gitIgnore ? await loadGitignore(abs, rel) : undefined;
      const inner = own === undefined ? scopes : [...scopes, own];
      for (const child of (await readdir(abs)).sort()) {
        if (options.gitIgnore && child === '.git') continue;
        const childRel = rel === '' ? child : `${rel}/${child}`;
        const childAbs = join(abs, child);
        if (options.gitIgnore) {
          const childStat = await lstat(childAbs);
          if (isIgnored(inner, childRel, childStat.isDirectory())) continue;
        }
        await addEntry(childAbs, `${name}/${child}`, inner);
      }
    } else if (st.isSymbolicLink()) {
      pack.entry({ ...base, type: 'symlink', linkname: await readlink(abs) });
      entries += 1;
    } else if (st.isFile()) {
      const entry = pack.entry({ ...base, type: 'file', size: st.size });
      await pipeline(createReadStream(abs), entry);
      entries += 1;
    }
    // Sockets, fifos and devices are skipped: they cannot be recreated meaningfully remotely.
  };

  const done = (async () => {
    try {
      await lstat(absRoot);
    } catch (cause) {
      throw new OpenShellError(
        'ERR_INPUT_UNREADABLE',
        `cannot upload ${source}: ${relative('.', absRoot) || '.'} does not exist`,
        { cause },
      );
    }
    await addEntry(absRoot, top, []);
    pack.finalize();
    return { entries };
  })();
  done.catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  // tar-stream 3 streams are streamx streams; Readable.from gives node's stream API
  // (pipeline, backpressure) on top of its async iterator.
  return { stream: Readable.from(pack), done };
}
