import { mkdir } from 'node:fs/promises';
import { OpenShellError } from '@openshell/policy-schema';
import type { SandboxSpec } from './compute-driver.js';

/** What every driver accepts as a sandbox id: it becomes part of host object names. */
export const SANDBOX_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** The checks every driver makes before it creates anything for `spec`. */
export function assertSandboxSpec(spec: SandboxSpec): void {
  if (!SANDBOX_ID_PATTERN.test(spec.id)) {
    throw new OpenShellError(
      'ERR_USAGE',
      `sandbox id "${spec.id}" must be 1–32 characters of a-z, 0-9 and "-", starting and ending with a letter or digit`,
    );
  }
  if (
    spec.token !== undefined &&
    Object.values(spec.env ?? {}).some((v) => v.includes(spec.token ?? ''))
  ) {
    throw new OpenShellError(
      'ERR_USAGE',
      'the sandbox token must not appear in the environment; it is passed on an inherited fd',
    );
  }
}

/**
 * Creates the sandbox's own state directory (0700); it existing already means the id is taken,
 * which both drivers report the same way.
 */
export async function claimSandboxDir(dir: string, id: string): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw cause;
    throw new OpenShellError(
      'ERR_SANDBOX_EXISTS',
      `sandbox "${id}" already exists; delete it first or pick another id`,
    );
  }
}
