import { lstat, mkdir, mkdtemp, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { describe, expect, test } from 'vitest';
import { extractTar } from './extract-tar.js';
import { packPath } from './pack-path.js';

type Entry = {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo';
  body?: string;
  linkname?: string;
};

/** A tar stream with exactly these entries, as a hostile sandbox could send. */
async function craft(entries: Entry[]): Promise<Readable> {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'file') pack.entry({ name: e.name, type, mode: 0o644 }, e.body ?? '');
    else
      pack.entry({
        name: e.name,
        type,
        mode: 0o755,
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Readable.from([Buffer.concat(chunks)]);
}

async function freshDest(): Promise<{ root: string; dest: string }> {
  const root = await mkdtemp(join(tmpdir(), 'openshell-extract-'));
  const dest = join(root, 'dest');
  await mkdir(dest);
  return { root, dest };
}

describe('extractTar refuses escapes', () => {
  test.for<[string, Entry[], RegExp]>([
    ['absolute name', [{ name: '/etc/evil', body: 'x' }], /absolute path/],
    ['.. climbing out', [{ name: '../evil', body: 'x' }], /escapes with ".."/],
    ['.. in the middle', [{ name: 'a/../../evil', body: 'x' }], /escapes with ".."/],
    ['absolute symlink', [{ name: 'l', type: 'symlink', linkname: '/etc' }], /is absolute/],
    [
      'symlink climbing out',
      [{ name: 'd/l', type: 'symlink', linkname: '../../outside' }],
      /points outside/,
    ],
    [
      'write through a symlink planted earlier (a -> ., b -> a/.., b/evil)',
      [
        { name: 'a', type: 'symlink', linkname: '.' },
        { name: 'b', type: 'symlink', linkname: 'a/..' },
        { name: 'b/evil', body: 'x' },
      ],
      /resolves outside/,
    ],
    [
      'hard link to a file outside',
      [{ name: 'h', type: 'link', linkname: '../outside.txt' }],
      /escapes with ".."/,
    ],
    ['fifo', [{ name: 'p', type: 'fifo' }], /entry type fifo is not allowed/],
  ])('%s', async ([, entries, message]) => {
    const { root, dest } = await freshDest();
    await writeFile(join(root, 'outside.txt'), 'secret');
    await expect(extractTar(await craft(entries), dest)).rejects.toMatchObject({
      code: 'ERR_TRANSFER_REFUSED',
      message: expect.stringMatching(message),
    });
    // Nothing was written next to dest, and the outside file is untouched.
    await expect(lstat(join(root, 'evil'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(root, 'outside.txt'), 'utf8')).toBe('secret');
  });

  test('a symlink that only escapes after a later entry is removed at the end', async () => {
    const { dest } = await freshDest();
    const stream = await craft([
      { name: 's', type: 'symlink', linkname: 't/..' },
      { name: 't', type: 'symlink', linkname: '.' },
    ]);
    await expect(extractTar(stream, dest)).rejects.toMatchObject({ code: 'ERR_TRANSFER_REFUSED' });
    await expect(lstat(join(dest, 's'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('a pre-existing symlink in dest is replaced, not written through', async () => {
    const { root, dest } = await freshDest();
    await writeFile(join(root, 'outside.txt'), 'secret');
    await symlink(join(root, 'outside.txt'), join(dest, 'f'));
    await extractTar(await craft([{ name: 'f', body: 'new' }]), dest);
    expect(await readFile(join(root, 'outside.txt'), 'utf8')).toBe('secret');
    expect(await readFile(join(dest, 'f'), 'utf8')).toBe('new');
  });
});

describe('extractTar positive controls', () => {
  test('files, dirs, inside symlinks and hard links are extracted', async () => {
    const { dest } = await freshDest();
    const result = await extractTar(
      await craft([
        { name: 'proj', type: 'directory' },
        { name: 'proj/a.txt', body: 'hello' },
        { name: 'proj/sub', type: 'directory' },
        { name: 'proj/sub/up', type: 'symlink', linkname: '../a.txt' },
        { name: 'proj/hard', type: 'link', linkname: 'proj/a.txt' },
        { name: './proj/./b.txt', body: 'b' },
      ]),
      dest,
    );
    expect(result).toEqual({ entries: 6, bytes: 6 });
    expect(await readFile(join(dest, 'proj/sub/up'), 'utf8')).toBe('hello');
    expect(await readlink(join(dest, 'proj/sub/up'))).toBe('../a.txt');
    expect(await readFile(join(dest, 'proj/hard'), 'utf8')).toBe('hello');
    expect(await readFile(join(dest, 'proj/b.txt'), 'utf8')).toBe('b');
  });
});

describe('packPath', () => {
  test('keeps the basename, honours nested .gitignore files, never sends .git; --no-git-ignore sends all', async () => {
    const root = await mkdtemp(join(tmpdir(), 'openshell-pack-'));
    const src = join(root, 'proj');
    await mkdir(join(src, 'sub/build'), { recursive: true });
    await mkdir(join(src, '.git'));
    await writeFile(join(src, '.gitignore'), '*.log\n');
    await writeFile(join(src, 'sub/.gitignore'), 'build/\n');
    await writeFile(join(src, 'keep.txt'), 'k');
    await writeFile(join(src, 'debug.log'), 'l');
    await writeFile(join(src, 'sub/build/out.o'), 'o');
    await writeFile(join(src, 'sub/main.c'), 'c');
    await writeFile(join(src, '.git/config'), 'token');
    const names = async (gitIgnore: boolean): Promise<string[]> => {
      const { stream, done } = packPath(src, { gitIgnore });
      const dest = join(root, `out-${String(gitIgnore)}`);
      await extractTar(stream, dest);
      await done;
      const { readdir } = await import('node:fs/promises');
      return (await readdir(dest, { recursive: true })).map(String).sort();
    };
    expect(await names(true)).toEqual([
      'proj',
      'proj/.gitignore',
      'proj/keep.txt',
      'proj/sub',
      'proj/sub/.gitignore',
      'proj/sub/main.c',
    ]);
    expect(await names(false)).toEqual([
      'proj',
      'proj/.git',
      'proj/.git/config',
      'proj/.gitignore',
      'proj/debug.log',
      'proj/keep.txt',
      'proj/sub',
      'proj/sub/.gitignore',
      'proj/sub/build',
      'proj/sub/build/out.o',
      'proj/sub/main.c',
    ]);
  });
});
