// Builds native/build/openshell-pty-exec (the PTY helper) as a static binary, so it runs
// inside any sandbox root filesystem the agent is bound into.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStaticC } from '../../../scripts/build-static-c.mjs';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(packageDir, 'native', 'src', 'pty-exec.c');
buildStaticC({
  sources: [source],
  output: join(packageDir, 'native', 'build', 'openshell-pty-exec'),
  what: source,
});
