// Builds native/build/openshell-sock-diag (the proxy's exact socket lookup co-process) with
// the system C compiler. Static (static-pie where the libc supports it) so it runs on any
// host the proxy is copied to. Needs a C compiler and the static C library
// (Debian/Ubuntu: apt-get install gcc libc6-dev). Without the binary the proxy still works,
// reading /proc/net/tcp instead, and says so on start.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(packageDir, 'native', 'src', 'sock-diag.c');
const outDir = join(packageDir, 'native', 'build');
const output = join(outDir, 'openshell-sock-diag');
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
// Built under a temporary name and renamed: a running proxy keeps the old inode, and a
// failed build never leaves a half-written helper.
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
  `build-native: could not compile ${source} with "${cc}". Install a C compiler and the ` +
    'static C library (Debian/Ubuntu: apt-get install gcc libc6-dev).',
);
process.exit(1);
