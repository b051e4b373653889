// Builds native/build/openshell-sock-diag (the proxy's exact socket lookup co-process) as a
// static binary. Without it the proxy still works, reading /proc/net/tcp instead, and says
// so on start.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStaticC } from '../../../scripts/build-static-c.mjs';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(packageDir, 'native', 'src', 'sock-diag.c');
buildStaticC({
  sources: [source],
  output: join(packageDir, 'native', 'build', 'openshell-sock-diag'),
  what: source,
});
