// Builds native/build/openshell-launcher with the system C compiler (no Node headers).
// Static so it runs inside any sandbox root filesystem it is bind-mounted into; static-pie
// where the libc supports it, so a root-run binary that parses input keeps ASLR.
// Needs: a C compiler (`cc`, e.g. Debian's gcc) and the static C library (libc6-dev).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(packageDir, 'native', 'src');
const outDir = join(packageDir, 'native', 'build');
const output = join(outDir, 'openshell-launcher');
const cc = process.env.CC ?? 'cc';

const sources = readdirSync(srcDir)
  .filter((name) => name.endsWith('.c'))
  .sort()
  .map((name) => join(srcDir, name));

const COMMON_FLAGS = [
  '-std=gnu11',
  '-O2',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-Wshadow',
  '-Wformat=2',
  '-D_GNU_SOURCE',
  '-D_FORTIFY_SOURCE=2',
  '-fstack-protector-strong',
  '-Wl,-z,relro,-z,now',
];
const LINK_MODES = [['-fPIE', '-static-pie'], ['-static']];

mkdirSync(outDir, { recursive: true });
// Build under a temporary name and rename: a test or sandbox still executing the old
// binary keeps its inode, and a failed build never leaves a half-written launcher.
const temporary = `${output}.tmp-${process.pid}`;
let lastError;
for (const mode of LINK_MODES) {
  try {
    execFileSync(cc, [...COMMON_FLAGS, ...mode, '-o', temporary, ...sources], {
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    renameSync(temporary, output);
    console.log(`built ${output} (${mode.join(' ')})`);
    process.exit(0);
  } catch (error) {
    lastError = error;
    rmSync(temporary, { force: true });
  }
}
const stderr = lastError?.stderr?.toString() ?? String(lastError);
console.error(stderr);
console.error(
  `build-native: could not compile the launcher with "${cc}". Install a C compiler and the ` +
    'static C library (Debian/Ubuntu: apt-get install gcc libc6-dev).',
);
process.exit(1);
