// Builds native/build/openshell-prove-probe, the static helper `openshell doctor --prove`
// uploads into its throwaway sandbox (see native/prove-probe.c for why it exists).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStaticC } from '../../../scripts/build-static-c.mjs';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
buildStaticC({
  sources: [join(packageDir, 'native', 'prove-probe.c')],
  output: join(packageDir, 'native', 'build', 'openshell-prove-probe'),
  what: 'the doctor --prove probe',
});
