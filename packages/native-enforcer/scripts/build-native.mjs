// Builds native/build/openshell-launcher (every .c under native/src) as a static binary.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStaticC } from '../../../scripts/build-static-c.mjs';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(packageDir, 'native', 'src');
buildStaticC({
  sources: readdirSync(srcDir)
    .filter((name) => name.endsWith('.c'))
    .sort()
    .map((name) => join(srcDir, name)),
  output: join(packageDir, 'native', 'build', 'openshell-launcher'),
  what: 'the launcher',
});
