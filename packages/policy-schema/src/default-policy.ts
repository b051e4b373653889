import type { HttpMatcher, Access, Policy } from './types.js';

/**
 * The policy a sandbox gets when none is given (REFERENCE.md "Policy file"): the usual
 * read-only system directories, writable /sandbox and /tmp, the unprivileged `sandbox`
 * identity, best-effort Landlock, and no network policies — every egress is denied.
 */
export const DEFAULT_POLICY: Policy = deepFreeze({
  version: 1,
  filesystem_policy: {
    include_workdir: true,
    read_only: ['/usr', '/lib', '/etc', '/proc', '/dev/urandom'],
    read_write: ['/sandbox', '/tmp', '/dev/null'],
  },
  landlock: { compatibility: 'best_effort' },
  process: { run_as_user: 'sandbox', run_as_group: 'sandbox' },
  network_policies: {},
});

/** The methods each `access` preset allows, on path `**` (OpenShell's REST presets). */
export const ACCESS_PRESET_METHODS: Readonly<Record<Access, readonly string[]>> = deepFreeze({
  'read-only': ['GET', 'HEAD', 'OPTIONS'],
  'read-write': ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'],
  full: ['*'],
});

/** The allow rules an `access` preset expands to. */
export function expandAccessPreset(access: Access): HttpMatcher[] {
  return ACCESS_PRESET_METHODS[access].map((method) => ({ method, path: '**' }));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
