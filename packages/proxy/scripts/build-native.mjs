// Builds native/build/openshell-caller.node, the in-process N-API addon that identifies the
// caller behind each proxied connection (native/src/caller-addon.c). Only node_api.h is
// used (ABI-stable), so one build loads on Node 20, 22 and 24. Without it the proxy still
// works, identifying callers from /proc in JS (slower), and says so loudly on start.
//
// Node's headers come from NODEDIR (or npm_config_nodedir) when set, else from the running
// Node's prefix (`<prefix>/include/node`, e.g. /usr/include/node from Debian's or
// NodeSource's nodejs package).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMON_FLAGS } from '../../../scripts/build-static-c.mjs';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(packageDir, 'native', 'src', 'caller-addon.c');
const output = join(packageDir, 'native', 'build', 'openshell-caller.node');

const nodedir =
  process.env.NODEDIR ?? process.env.npm_config_nodedir ?? join(dirname(process.execPath), '..');
const includeDir = join(nodedir, 'include', 'node');
if (!existsSync(join(includeDir, 'node_api.h'))) {
  console.error(
    `build-native: ${join(includeDir, 'node_api.h')} not found. Install Node's headers ` +
      '(they come with the nodejs package) or set NODEDIR to a directory with include/node.',
  );
  process.exit(1);
}

const FLAGS = [
  ...COMMON_FLAGS,
  '-fPIC',
  '-shared',
  '-pthread',
  // The napi_* symbols are resolved from the node binary when the addon is loaded.
  `-I${includeDir}`,
];

const cc = process.env.CC ?? 'cc';
mkdirSync(dirname(output), { recursive: true });
// Build under a temporary name and rename: a running proxy keeps the old inode mapped, and
// a failed build never leaves a half-written addon.
const temporary = `${output}.tmp-${process.pid}`;
try {
  execFileSync(cc, [...FLAGS, '-o', temporary, source], { stdio: ['ignore', 'inherit', 'pipe'] });
  renameSync(temporary, output);
  console.log(`built ${output}`);
} catch (error) {
  rmSync(temporary, { force: true });
  console.error(error?.stderr?.toString() ?? String(error));
  console.error(
    `build-native: could not compile ${source} with "${cc}". Install a C compiler ` +
      '(Debian/Ubuntu: apt-get install gcc libc6-dev).',
  );
  process.exit(1);
}
