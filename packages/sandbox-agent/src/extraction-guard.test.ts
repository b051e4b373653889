import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ExtractionGuard, type ArchiveEntryHeader } from './extraction-guard.js';

let root: string;
let dest: string;

beforeAll(() => {
  root = realpathSync(mkdtempSync('/tmp/osa-guard-'));
  dest = join(root, 'dest');
  mkdirSync(join(dest, 'real'), { recursive: true });
  symlinkSync('/etc', join(dest, 'abs-out'));
  symlinkSync('../..', join(dest, 'rel-out'));
  symlinkSync('real', join(dest, 'rel-in'));
  symlinkSync(join(dest, 'real'), join(dest, 'abs-in'));
  symlinkSync('loop-b', join(dest, 'loop-a'));
  symlinkSync('loop-a', join(dest, 'loop-b'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const file = (path: string): ArchiveEntryHeader => ({ path, type: 'File' });
const link = (path: string, linkpath: string): ArchiveEntryHeader => ({
  path,
  type: 'SymbolicLink',
  linkpath,
});
const hard = (path: string, linkpath: string): ArchiveEntryHeader => ({
  path,
  type: 'Link',
  linkpath,
});

/** Runs entries through one guard; returns each guarded path, or the refusal code. */
function run(entries: ArchiveEntryHeader[]): Array<string | undefined> {
  const guard = new ExtractionGuard(dest);
  return entries.map((entry) => {
    try {
      return guard.check(entry)?.path;
    } catch (error) {
      return (error as { code: string }).code;
    }
  });
}

describe('ExtractionGuard', () => {
  test.for([
    { name: 'plain file', entries: [file('a/b.txt')], expected: ['a/b.txt'] },
    {
      name: 'leading ./ and doubled slashes',
      entries: [file('./a//b.txt')],
      expected: ['a/b.txt'],
    },
    {
      name: 'the archive root itself is skipped',
      entries: [{ path: './', type: 'Directory' }],
      expected: [undefined],
    },
    {
      name: 'through an on-disk symlink inside: rewritten to the real path',
      entries: [file('rel-in/x')],
      expected: ['real/x'],
    },
    {
      name: 'through an absolute on-disk symlink inside',
      entries: [file('abs-in/x')],
      expected: ['real/x'],
    },
    {
      name: 'archive symlink inside, then through it',
      entries: [link('l', 'real'), file('l/x')],
      expected: ['l', 'real/x'],
    },
    {
      name: 'replacing an escaping symlink (final component is not followed)',
      entries: [file('abs-out')],
      expected: ['abs-out'],
    },
    {
      name: 'a directory entry replaces a symlink, later entries go into it',
      entries: [link('d', '/etc'), { path: 'd/', type: 'Directory' }, file('d/x')],
      expected: ['ERR_TRANSFER_REFUSED', 'd', 'd/x'],
    },
    {
      name: 'hard link to a file inside',
      entries: [file('f'), hard('g', 'f')],
      expected: ['f', 'g'],
    },
  ])('accepts $name', ({ entries, expected }) => {
    expect(run(entries)).toEqual(expected);
  });

  test.for([
    { name: 'an absolute name', entries: [file('/etc/passwd')] },
    { name: 'a ".." component', entries: [file('a/../../x')] },
    { name: 'a symlink to an absolute path outside', entries: [link('l', '/etc')] },
    { name: 'a symlink climbing out', entries: [link('a/l', '../../x')] },
    {
      name: 'a symlink chain that climbs out only after a later link',
      entries: [link('b', '.'), link('a', 'b/../x')],
    },
    { name: 'writing through an on-disk symlink to outside', entries: [file('abs-out/x')] },
    { name: 'writing through a relative on-disk symlink to outside', entries: [file('rel-out/x')] },
    { name: 'a symlink loop', entries: [file('loop-a/x')] },
    { name: 'a hard link to outside', entries: [hard('g', '../x')] },
    { name: 'a hard link to a symlink', entries: [link('l', 'real'), hard('g', 'l')] },
    { name: 'a device node', entries: [{ path: 'dev', type: 'CharacterDevice' }] },
    { name: 'a FIFO', entries: [{ path: 'fifo', type: 'FIFO' }] },
  ])('refuses $name', ({ entries }) => {
    expect(run(entries).at(-1)).toBe('ERR_TRANSFER_REFUSED');
  });
});
