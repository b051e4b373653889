import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NODE_DIR, parseLdd, prepareNodeRuntime } from './node-runtime.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openshell-node-runtime-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseLdd', () => {
  test('keeps resolved paths and the loader, drops the vdso', () => {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffc)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f07)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f07)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f07)',
    ].join('\n');
    expect(parseLdd(output)).toEqual([
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });
});

describe('prepareNodeRuntime (the host node)', () => {
  test('binds node, every library and the loader under the root-only node dir', async () => {
    const runtime = await prepareNodeRuntime(dir);
    const targets = runtime.binds.map((b) => b.target);
    expect(targets).toContain(`${NODE_DIR}/bin/node`);
    expect(targets).toContain(`${NODE_DIR}/run-node`);
    expect(targets.some((t) => /\/lib\/ld-linux.*\.so/.test(t))).toBe(true);
    expect(targets.some((t) => t.endsWith('/libc.so.6'))).toBe(true);
    expect(runtime.nodePath).toBe(`${NODE_DIR}/run-node`);
  });

  test('the loader command works: the host loader runs node with only the bound libraries', async () => {
    const runtime = await prepareNodeRuntime(dir);
    const loaderBind = runtime.binds.find((b) => /ld-linux/.test(basename(b.target)));
    const script = await readFile(join(dir, 'node', 'run-node'), 'utf8');
    expect(script).toContain(`--library-path ${NODE_DIR}/lib`);
    // Same command with host paths for the binds: prove node starts through the loader.
    const libDir = join(dir, 'libs');
    spawnSync('mkdir', ['-p', libDir]);
    for (const bind of runtime.binds.filter((b) => b.target.startsWith(`${NODE_DIR}/lib/`))) {
      spawnSync('ln', ['-sf', bind.source, join(libDir, basename(bind.target))]);
    }
    const result = spawnSync(
      loaderBind?.source ?? '/nonexistent',
      ['--library-path', libDir, '--argv0', 'node', process.execPath, '-p', '1 + 1'],
      { encoding: 'utf8' },
    );
    expect(result.stdout, result.stderr).toBe('2\n');
  });
});
