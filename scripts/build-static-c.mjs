// Shared by every package that ships a small C helper (native-enforcer's launcher, the
// sandbox-agent's pty helper, the CLI's prove probe). Builds with the system C compiler, no
// Node headers. The proxy's addon (a shared object, not static) takes the same warning and
// hardening flags from here. Static so the binary runs inside any sandbox root filesystem
// it is bind-mounted into; static-pie where the libc supports it, so these root-run
// binaries that parse input keep ASLR. Needs a C compiler (`cc`, e.g. Debian's gcc) and the
// static C library (libc6-dev).
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

/** Warnings as errors and the hardening every native piece of openshell is built with. */
export const COMMON_FLAGS = [
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

/**
 * Compiles `sources` into `output` and exits the process: 0 when built, 1 with the
 * compiler's message and the packages to install when no link mode works.
 */
export function buildStaticC({ sources, output, what }) {
  const cc = process.env.CC ?? 'cc';
  mkdirSync(dirname(output), { recursive: true });
  // Build under a temporary name and rename: a process still executing the old binary
  // keeps its inode, and a failed build never leaves a half-written one.
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
  console.error(lastError?.stderr?.toString() ?? String(lastError));
  console.error(
    `build-native: could not compile ${what} with "${cc}". Install a C compiler and the ` +
      'static C library (Debian/Ubuntu: apt-get install gcc libc6-dev).',
  );
  process.exit(1);
}
