import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OpenShellError } from '@openshell/policy-schema';
import { PROBE_NAME } from './build-prove-context.js';

/** The built probe (native/build, next to dist/ in the package); fails with the build command. */
export function findProbe(): string {
  const path = fileURLToPath(new URL(`../../native/build/${PROBE_NAME}`, import.meta.url));
  if (!existsSync(path)) {
    throw new OpenShellError(
      'ERR_HOST_UNSUPPORTED',
      `the doctor --prove probe is missing at ${path}; build it with ` +
        `'pnpm --filter @openshell/cli build' (needs a C compiler and libc6-dev)`,
    );
  }
  return path;
}
