#!/usr/bin/env node
// Fails when proto/gen/ is not exactly what `buf generate` produces from the .proto files.
// Generated code is committed (so consumers build without buf), which means a .proto edit
// without a regenerate would ship a wire contract the code does not implement.
//
// Usage: node scripts/check-fresh.mjs [PACKAGE_DIR]
//   PACKAGE_DIR defaults to this package. It must hold buf.yaml, buf.gen.yaml, gen/ and a
//   node_modules/ with ts-proto (buf.gen.yaml names the plugin by relative path). Taking the
//   directory as an argument lets the test run the check against an edited temporary copy.
//
// Exit codes: 0 fresh; 1 stale (the differing files are listed); 2 generation itself failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUF = join(PACKAGE_ROOT, 'node_modules', '.bin', 'buf');
const STALE_MESSAGE = 'generated code is stale: run pnpm --filter @openshell/proto generate';

/** Lists every file under `root` as sorted paths relative to it; a missing root is empty. */
function listFiles(root) {
  let exists = false;
  try {
    exists = statSync(root).isDirectory();
  } catch {
    // Missing gen/ (never generated) is reported as every expected file being missing.
  }
  if (!exists) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/** Compares two trees and returns one line per difference, empty when identical. */
function diffTrees(committedRoot, expectedRoot) {
  const committed = listFiles(committedRoot);
  const expected = listFiles(expectedRoot);
  const committedSet = new Set(committed);
  const expectedSet = new Set(expected);
  const differences = [];
  for (const file of expected) {
    if (!committedSet.has(file)) {
      differences.push(`  missing:  gen/${file}`);
    } else if (
      !readFileSync(join(committedRoot, file)).equals(readFileSync(join(expectedRoot, file)))
    ) {
      differences.push(`  differs:  gen/${file}`);
    }
  }
  for (const file of committed) {
    if (!expectedSet.has(file)) differences.push(`  orphaned: gen/${file} (no .proto produces it)`);
  }
  return differences;
}

/** Runs the check against `packageDir` and returns the process exit code. */
function checkFresh(packageDir) {
  const outDir = mkdtempSync(join(tmpdir(), 'openshell-proto-fresh-'));
  try {
    // `--output` prefixes the template's `out: gen`, so the fresh tree lands in outDir/gen
    // while buf still reads buf.yaml/buf.gen.yaml (and the plugin path) relative to cwd.
    const result = spawnSync(BUF, ['generate', '--output', outDir], {
      cwd: packageDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (result.error !== undefined || result.status !== 0) {
      const why = result.error?.message ?? `${result.stderr}${result.stdout}`.trim();
      process.stderr.write(`check:fresh: buf generate failed in ${packageDir}: ${why}\n`);
      return 2;
    }
    const differences = diffTrees(join(packageDir, 'gen'), join(outDir, 'gen'));
    if (differences.length > 0) {
      process.stderr.write(`${STALE_MESSAGE}\n${differences.join('\n')}\n`);
      return 1;
    }
    process.stdout.write(
      `check:fresh: ${relative(process.cwd(), join(packageDir, 'gen')) || 'gen'} is up to date\n`,
    );
    return 0;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

process.exitCode = checkFresh(resolve(process.argv[2] ?? PACKAGE_ROOT));
