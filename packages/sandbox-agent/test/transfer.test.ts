import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  SANDBOX_UID,
  startAgent,
  type Agent,
  type ControlClient,
  type SessionResult,
} from './harness.js';
import { buildTar, type FixtureEntry } from './tar-fixtures.js';

let agent: Agent;
let client: ControlClient;
let outside: string;
let counter = 0;
const nextId = (): string => `xfer-${++counter}`;

beforeAll(async () => {
  agent = await startAgent();
  client = await agent.connect();
  // Writable by the sandbox user and inside Landlock's read_write (/tmp): if the guard let
  // an escaping entry through, tar would really write here, so absence proves the guard.
  outside = join(agent.dir, 'outside');
  mkdirSync(outside);
  chownSync(outside, SANDBOX_UID, SANDBOX_UID);
}, 20_000);

afterAll(async () => {
  client.close();
  await agent.stop();
  agent.cleanup();
});

async function upload(dest: string, archive: Buffer): Promise<SessionResult> {
  const id = nextId();
  client.send({ $case: 'upload', value: { sessionId: id, dest } });
  // Odd-sized chunks, so headers and bodies straddle SessionInput messages.
  for (let offset = 0; offset < archive.length; offset += 777) {
    client.input(id, { $case: 'data', value: archive.subarray(offset, offset + 777) });
  }
  client.input(id, { $case: 'eof', value: {} });
  return client.finished(id);
}

async function download(path: string): Promise<SessionResult> {
  const id = nextId();
  client.send({ $case: 'download', value: { sessionId: id, path } });
  return client.finished(id);
}

function listArchive(archive: Buffer): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const entries: Record<string, string> = {};
    const parser = new Parser();
    parser.on('entry', (entry: ReadEntry) => {
      let body = '';
      entry.on('data', (chunk: Buffer) => (body += chunk.toString()));
      entry.on('end', () => {
        entries[entry.path] =
          entry.type === 'SymbolicLink'
            ? `-> ${entry.linkpath ?? ''}`
            : entry.type === 'Directory'
              ? '<dir>'
              : body;
      });
    });
    parser.on('end', () => resolve(entries));
    parser.on('error', reject);
    parser.end(archive);
  });
}

describe('upload and download round trip', () => {
  test('a tree goes in as the sandbox user and comes back out unchanged', async () => {
    const tree: FixtureEntry[] = [
      { type: 'Directory', path: 'proj/' },
      { type: 'File', path: 'proj/README.md', body: '# hello\n' },
      { type: 'Directory', path: 'proj/src/' },
      { type: 'File', path: 'proj/src/main.ts', body: 'x'.repeat(5000) },
      { type: 'SymbolicLink', path: 'proj/link', linkpath: 'src/main.ts' },
      { type: 'Link', path: 'proj/README.copy', linkpath: 'proj/README.md' },
      { type: 'File', path: 'proj/' + 'n'.repeat(150) + '.txt', body: 'long name\n' },
    ];
    const dest = join(agent.home, 'in');
    const result = await upload(dest, buildTar(tree));
    expect(result.failed).toBeUndefined();
    expect(result.done).toMatchObject({ entries: tree.length });
    expect(readFileSync(join(dest, 'proj/src/main.ts'), 'utf8')).toBe('x'.repeat(5000));
    expect(readlinkSync(join(dest, 'proj/link'))).toBe('src/main.ts');
    expect(statSync(join(dest, 'proj/README.md')).uid).toBe(SANDBOX_UID);
    expect(statSync(join(dest, 'proj/README.copy')).ino).toBe(
      statSync(join(dest, 'proj/README.md')).ino,
    );

    const back = await download(join(dest, 'proj'));
    expect(back.failed).toBeUndefined();
    expect(back.done).toMatchObject({ bytes: back.raw.length, entries: tree.length });
    const listed = await listArchive(back.raw);
    // One of the two hard-linked names carries the body, the other is a link entry.
    expect([listed['proj/README.md'], listed['proj/README.copy']]).toContain('# hello\n');
    expect(listed).toMatchObject({
      'proj/': '<dir>',
      'proj/src/main.ts': 'x'.repeat(5000),
      'proj/link': '-> src/main.ts',
      ['proj/' + 'n'.repeat(150) + '.txt']: 'long name\n',
    });
  });

  test('setuid bits are dropped on extraction', async () => {
    const archive = buildTar([{ type: 'File', path: 'plain.sh', body: '#!/bin/sh\n' }]);
    archive.write('0004755', 100, 'ascii'); // mode field; checksum fixed below
    fixChecksum(archive);
    const dest = join(agent.home, 'modes');
    expect((await upload(dest, archive)).failed).toBeUndefined();
    expect(statSync(join(dest, 'plain.sh')).mode & 0o7777).toBe(0o755);
  });

  test('download runs as the sandbox user: a root-only file is refused, a readable one is not', async () => {
    const secret = join(agent.home, 'root-only.txt');
    writeFileSync(secret, 'token', { mode: 0o600 });
    const readable = join(agent.home, 'readable.txt');
    writeFileSync(readable, 'public', { mode: 0o644 });
    expect((await download(secret)).failed).toMatchObject({ code: 'ERR_TRANSFER_FAILED' });
    expect(await listArchive((await download(readable)).raw)).toEqual({ 'readable.txt': 'public' });
  });

  test('a missing download path fails with ERR_TRANSFER_FAILED', async () => {
    expect((await download(join(agent.home, 'nope'))).failed).toMatchObject({
      code: 'ERR_TRANSFER_FAILED',
    });
  });
});

/** lstat-based: a dangling symlink left behind would count as an escape artefact. */
function existsOrDangling(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function fixChecksum(archive: Buffer): void {
  archive.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += archive[i] ?? 0;
  archive.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
}

describe('upload refusals, each beside an accepted control', () => {
  test.for([
    {
      name: 'absolute path',
      refused: [{ type: 'File', path: '/tmp/osa-abs-escape.txt', body: 'x' }],
      escaped: '/tmp/osa-abs-escape.txt',
      control: [{ type: 'File', path: 'abs-ok.txt', body: 'x' }],
      landed: 'abs-ok.txt',
    },
    {
      name: '".." component',
      refused: [{ type: 'File', path: 'sub/../../dotdot.txt', body: 'x' }],
      escaped: 'DEST/../dotdot.txt',
      control: [{ type: 'File', path: 'sub/..dots-in-name.txt', body: 'x' }],
      landed: 'sub/..dots-in-name.txt',
    },
    {
      name: 'symlink entry escaping, then a write through it',
      refused: [
        { type: 'SymbolicLink', path: 'escape', linkpath: 'OUTSIDE' },
        { type: 'File', path: 'escape/pwned.txt', body: 'x' },
      ],
      escaped: 'OUTSIDE/pwned.txt',
      control: [
        { type: 'Directory', path: 'real/' },
        { type: 'SymbolicLink', path: 'inner', linkpath: 'real' },
        { type: 'File', path: 'inner/ok.txt', body: 'x' },
      ],
      landed: 'real/ok.txt',
    },
    {
      name: 'relative symlink target climbing out',
      refused: [{ type: 'SymbolicLink', path: 'a/up', linkpath: '../../../../../etc' }],
      escaped: 'DEST/a/up',
      control: [{ type: 'SymbolicLink', path: 'a/side', linkpath: '../real' }],
      landed: 'a/side',
    },
    {
      name: 'hard link to outside',
      refused: [{ type: 'Link', path: 'hl', linkpath: '../secret' }],
      escaped: 'DEST/hl',
      control: [
        { type: 'File', path: 'orig.txt', body: 'x' },
        { type: 'Link', path: 'hl-ok', linkpath: 'orig.txt' },
      ],
      landed: 'hl-ok',
    },
    {
      name: 'device node',
      refused: [{ type: 'CharacterDevice', path: 'null2' }],
      escaped: 'DEST/null2',
      control: [{ type: 'File', path: 'null3', body: '' }],
      landed: 'null3',
    },
  ] satisfies Array<{
    name: string;
    refused: FixtureEntry[];
    escaped: string;
    control: FixtureEntry[];
    landed: string;
  }>)('refuses $name', async ({ refused, escaped, control, landed }) => {
    const dest = join(agent.home, `case-${++counter}`);
    const fill = (text: string): string => text.replace('OUTSIDE', outside).replace('DEST', dest);
    const entries = refused.map((e) => ({
      ...e,
      ...('linkpath' in e ? { linkpath: fill(e.linkpath) } : {}),
    }));
    const denied = await upload(dest, buildTar(entries));
    expect(denied.failed).toMatchObject({ code: 'ERR_TRANSFER_REFUSED' });
    expect(existsOrDangling(fill(escaped))).toBe(false);
    const accepted = await upload(dest, buildTar(control));
    expect(accepted.failed).toBeUndefined();
    expect(
      lstatSync(join(dest, landed)).isFile() || lstatSync(join(dest, landed)).isSymbolicLink(),
    ).toBe(true);
  });

  test('a symlink already in the destination is not written through; an inside one is', async () => {
    const dest = join(agent.home, 'pre');
    mkdirSync(join(dest, 'target'), { recursive: true });
    chownSync(dest, SANDBOX_UID, SANDBOX_UID);
    chownSync(join(dest, 'target'), SANDBOX_UID, SANDBOX_UID);
    symlinkSync(outside, join(dest, 'out-link'));
    symlinkSync(join(dest, 'target'), join(dest, 'in-link'));
    const denied = await upload(
      dest,
      buildTar([{ type: 'File', path: 'out-link/pwned.txt', body: 'x' }]),
    );
    expect(denied.failed).toMatchObject({ code: 'ERR_TRANSFER_REFUSED' });
    expect(existsSync(join(outside, 'pwned.txt'))).toBe(false);
    const accepted = await upload(
      dest,
      buildTar([{ type: 'File', path: 'in-link/ok.txt', body: 'x' }]),
    );
    expect(accepted.failed).toBeUndefined();
    expect(readFileSync(join(dest, 'target/ok.txt'), 'utf8')).toBe('x');
  });

  test('entries before a refused one are extracted, none after it', async () => {
    const dest = join(agent.home, 'partial');
    const result = await upload(
      dest,
      buildTar([
        { type: 'File', path: 'first.txt', body: '1' },
        { type: 'File', path: '../escape.txt', body: '2' },
        { type: 'File', path: 'third.txt', body: '3' },
      ]),
    );
    expect(result.failed).toMatchObject({ code: 'ERR_TRANSFER_REFUSED' });
    expect(result.failed?.message).toContain('"../escape.txt"');
    expect(existsSync(join(dest, 'first.txt'))).toBe(true);
    expect(existsSync(join(dest, 'third.txt'))).toBe(false);
  });

  test.for([
    { name: 'outside the upload roots', dest: '/var/tmp/osa-upload' },
    { name: 'relative', dest: 'relative/dir' },
    { name: 'with ".."', dest: '/tmp/../var/tmp' },
  ])('refuses a destination $name; a destination under /tmp is accepted', async ({ dest }) => {
    const archive = buildTar([{ type: 'File', path: 'f.txt', body: 'x' }]);
    expect((await upload(dest, archive)).failed).toMatchObject({ code: 'ERR_TRANSFER_REFUSED' });
    // A sandbox-owned directory under /tmp: the destination is created by mkdir as that user.
    const parent = join(agent.dir, `sbx-${++counter}`);
    mkdirSync(parent);
    chownSync(parent, SANDBOX_UID, SANDBOX_UID);
    const ok = join(parent, 'dest');
    expect((await upload(ok, archive)).failed).toBeUndefined();
    expect(statSync(join(ok, 'f.txt')).uid).toBe(SANDBOX_UID);
  });

  test('a destination that is a symlink to outside the roots is refused', async () => {
    symlinkSync('/var', join(agent.home, 'var-link'));
    const result = await upload(
      join(agent.home, 'var-link'),
      buildTar([{ type: 'File', path: 'f.txt', body: 'x' }]),
    );
    expect(result.failed).toMatchObject({ code: 'ERR_TRANSFER_REFUSED' });
  });

  test('garbage instead of a tar stream is refused', async () => {
    const result = await upload(
      join(agent.home, 'garbage'),
      Buffer.from('this is not a tar archive'.repeat(40)),
    );
    expect(result.failed).toMatchObject({ code: 'ERR_TRANSFER_REFUSED' });
  });
});
