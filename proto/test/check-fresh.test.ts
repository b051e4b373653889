import { spawn } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(PACKAGE_ROOT, 'scripts', 'check-fresh.mjs');
const STALE = 'generated code is stale: run pnpm --filter @openshell/proto generate';

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the freshness script against `dir` as a real child process. */
function runCheckFresh(dir: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [SCRIPT, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/**
 * Copies the package (sources, config, committed gen/) to a temp dir. node_modules is linked,
 * not copied: buf.gen.yaml names the plugin by a path relative to the package.
 */
function copyPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'openshell-proto-copy-'));
  cpSync(PACKAGE_ROOT, dir, {
    recursive: true,
    filter: (source) => !['node_modules', 'dist', '.turbo'].includes(basename(source)),
  });
  symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const COMMON_PROTO = join('openshell', 'v1', 'common.proto');
const GATEWAY_TS = join('gen', 'openshell', 'v1', 'gateway.ts');

describe('check:fresh', () => {
  test.for([
    {
      name: 'passes on the committed output',
      mutate: (_dir: string): void => undefined,
      code: 0,
      expected: 'is up to date',
    },
    {
      name: 'fails after a field is renamed in a .proto file',
      mutate: (dir: string): void => {
        const file = join(dir, COMMON_PROTO);
        const text = readFileSync(file, 'utf8');
        expect(text).toContain('  string reason = 36;');
        writeFileSync(file, text.replace('  string reason = 36;', '  string why = 36;'));
      },
      code: 1,
      expected: 'differs:  gen/openshell/v1/common.ts',
    },
    {
      name: 'fails after a generated file is edited by hand',
      mutate: (dir: string): void => appendFileSync(join(dir, GATEWAY_TS), '\n// hand edit\n'),
      code: 1,
      expected: 'differs:  gen/openshell/v1/gateway.ts',
    },
    {
      name: 'fails when a generated file is missing',
      mutate: (dir: string): void => unlinkSync(join(dir, GATEWAY_TS)),
      code: 1,
      expected: 'missing:  gen/openshell/v1/gateway.ts',
    },
    {
      name: 'fails when gen/ holds a file no .proto produces',
      mutate: (dir: string): void =>
        writeFileSync(join(dir, 'gen', 'openshell', 'v1', 'removed.ts'), 'export {};\n'),
      code: 1,
      expected: 'orphaned: gen/openshell/v1/removed.ts',
    },
    {
      name: 'reports a generation failure (not staleness) for an invalid .proto',
      mutate: (dir: string): void =>
        appendFileSync(join(dir, COMMON_PROTO), '\nmessage Broken { string = 1; }\n'),
      code: 2,
      expected: 'buf generate failed',
    },
  ])('$name', { timeout: 60_000 }, async ({ mutate, code, expected }) => {
    const dir = copyPackage();
    try {
      mutate(dir);
      const result = await runCheckFresh(dir);
      expect({ code: result.code, output: result.stdout + result.stderr }).toMatchObject({
        code,
        output: expect.stringContaining(expected) as unknown,
      });
      if (code === 1) expect(result.stderr).toContain(STALE);
      else expect(result.stderr).not.toContain(STALE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
