import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the launcher built by this package (`native/build/openshell-launcher`).
 * Resolved from this module's location, which is one level below the package directory
 * both as compiled (dist/) and as source (src/).
 */
export function launcherPath(): string {
  return fileURLToPath(new URL('../native/build/openshell-launcher', import.meta.url));
}
