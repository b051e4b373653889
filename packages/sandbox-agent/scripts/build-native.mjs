// Builds native/build/openshell-pty-exec with the system C compiler (no Node headers, no
// node-gyp). Static so it runs inside any sandbox root filesystem the agent is bound into;
// static-pie where the libc supports it, so this root-run helper keeps ASLR.
// Needs: a C compiler (`cc`, e.g. Debian's gcc) and the static C library (libc6-dev).
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(packageDir, 'native', 'src', 'pty-exec.c');
const outDir = join(packageDir, 'native', 'build');
const output = join(outDir, 'openshell-pty-exec');
const cc = process.env.CC ?? 'cc';

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
// Build under a temporary name and rename: a running agent keeps the old inode, and a
// failed build never leaves a half-written helper behind.
const temporary = `${output}.tmp-${process.pid}`;
let lastError;
for (const mode of LINK_MODES) {
  try {
    execFileSync(cc, [...COMMON_FLAGS, ...mode, '-o', temporary, source], {
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
console.error(lastError?.stderr?.toString() ?? String(lastError));
console.error(
  `build-native: could not compile the pty helper with "${cc}". Install a C compiler and the ` +
    'static C library (Debian/Ubuntu: apt-get install gcc libc6-dev).',
);
process.exit(1);
