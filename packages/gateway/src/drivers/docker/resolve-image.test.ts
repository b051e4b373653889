import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildTag, classifyFrom, findBuildError } from './resolve-image.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openshell-resolve-image-'));
  await mkdir(join(dir, 'with'));
  await writeFile(join(dir, 'with', 'Dockerfile'), 'FROM scratch\n');
  await mkdir(join(dir, 'without'));
  await writeFile(join(dir, 'Custom.dockerfile'), 'FROM scratch\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('classifyFrom', () => {
  test.for([
    { from: 'localhost/app:1', expected: { kind: 'image', reference: 'localhost/app:1' } },
    { from: 'debian:12-slim', expected: { kind: 'image', reference: 'debian:12-slim' } },
  ])('$from is an image reference', async ({ from, expected }) => {
    await expect(classifyFrom(from)).resolves.toEqual(expected);
  });

  test('a directory with a Dockerfile is a build of that directory', async () => {
    await expect(classifyFrom(join(dir, 'with'))).resolves.toEqual({
      kind: 'build',
      context: join(dir, 'with'),
      dockerfile: 'Dockerfile',
    });
  });

  test('a Dockerfile builds with its own directory as the context', async () => {
    await expect(classifyFrom(join(dir, 'Custom.dockerfile'))).resolves.toEqual({
      kind: 'build',
      context: dir,
      dockerfile: 'Custom.dockerfile',
    });
  });

  test.for([
    {
      what: 'a directory without a Dockerfile',
      from: () => join(dir, 'without'),
      message: 'has no Dockerfile',
    },
    {
      what: 'a missing path',
      from: () => join(dir, 'missing'),
      message: 'no such file or directory',
    },
    { what: 'a missing relative path', from: () => './missing-context', message: 'no such file' },
  ])('refuses $what, naming it', async ({ from, message }) => {
    await expect(classifyFrom(from())).rejects.toThrow(message);
    await expect(classifyFrom(from())).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });
});

describe('buildTag and findBuildError', () => {
  test('the tag is stable per context and Dockerfile, and differs between them', () => {
    const a = buildTag({ kind: 'build', context: '/a', dockerfile: 'Dockerfile' });
    expect(a).toMatch(/^localhost\/openshell-build-[0-9a-f]{12}:latest$/);
    expect(buildTag({ kind: 'build', context: '/a', dockerfile: 'Dockerfile' })).toBe(a);
    expect(buildTag({ kind: 'build', context: '/b', dockerfile: 'Dockerfile' })).not.toBe(a);
  });

  test.for([
    { stream: '{"stream":"STEP 1/2"}\n{"stream":"done"}\n', expected: undefined },
    {
      stream:
        '{"stream":"x"}\n{"error":"COPY failed","errorDetail":{"message":"COPY failed: no file"}}\n',
      expected: 'COPY failed: no file',
    },
    { stream: 'not json\n{"error":"boom"}\n', expected: 'boom' },
  ])('finds $expected in a build stream', ({ stream, expected }) => {
    expect(findBuildError(stream)).toBe(expected);
  });
});
