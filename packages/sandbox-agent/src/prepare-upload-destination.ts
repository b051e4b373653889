import { existsSync, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { OpenShellError } from '@openshell/policy-schema';
import type { ProcessLauncher } from './process-launcher.js';
import { runSandboxed } from './run-sandboxed.js';
import type { SandboxConfig } from './sandbox-env.js';

function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root === '/' ? '/' : `${root}/`);
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // A root that does not exist yet cannot contain anything; compare its spelling.
    return path;
  }
}

function refuse(dest: string, reason: string, roots: readonly string[]): OpenShellError {
  return new OpenShellError(
    'ERR_TRANSFER_REFUSED',
    `upload destination ${JSON.stringify(dest)} refused: ${reason}; choose a directory under ${roots.join(' or ')}`,
    { details: { destination: dest, roots } },
  );
}

/**
 * Checks an upload destination and returns its real path: absolute, without `..`, under
 * one of the upload roots both as written and after resolving symlinks, and a directory.
 * A missing destination is created with `mkdir -p` as the sandbox user.
 */
export async function prepareUploadDestination(
  launcher: ProcessLauncher,
  config: SandboxConfig,
  dest: string,
): Promise<string> {
  const roots = config.uploadRoots;
  if (!dest.startsWith('/')) throw refuse(dest, 'it is not an absolute path', roots);
  if (dest.includes('\0') || dest.split('/').includes('..'))
    throw refuse(dest, 'it contains ".." or NUL', roots);
  const normalized = posix.normalize(dest).replace(/(.)\/+$/, '$1');
  if (!roots.some((root) => isInside(normalized, posix.normalize(root)))) {
    throw refuse(dest, 'it is outside the upload roots', roots);
  }
  if (!existsSync(normalized)) {
    const made = await runSandboxed(launcher, config, ['mkdir', '-p', '--', normalized], '/');
    if (made.exit.code !== 0) {
      throw new OpenShellError(
        'ERR_TRANSFER_FAILED',
        `cannot create upload destination ${normalized} as the sandbox user: ${made.stderr || 'mkdir failed'}`,
        { details: { destination: normalized } },
      );
    }
  }
  const real = realpathSync(normalized);
  if (!roots.some((root) => isInside(real, realpathOrSelf(root)))) {
    throw refuse(dest, `it resolves (through a symlink) to ${real}`, roots);
  }
  if (!statSync(real).isDirectory()) throw refuse(dest, 'it is not a directory', roots);
  return real;
}
