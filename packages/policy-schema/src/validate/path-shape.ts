import { hasControlCharacter } from './guards.js';

/** Longest path accepted (PATH_MAX on Linux, and OpenShell's limit). */
export const MAX_PATH_LENGTH = 4096;

export type PathProblem = 'empty' | 'control' | 'relative' | 'traversal' | 'too_long';

/**
 * Shape checks shared by filesystem paths, binary paths and rule paths. `..` is refused
 * rather than resolved: an allowlist entry that climbs out of its own prefix hides what
 * it really grants, and a binary or request path never contains `..` once canonical, so
 * such an entry could only ever be a mistake.
 */
export function findPathProblem(path: string): PathProblem | undefined {
  if (path === '') return 'empty';
  if (path.length > MAX_PATH_LENGTH) return 'too_long';
  if (hasControlCharacter(path)) return 'control';
  if (!path.startsWith('/')) return 'relative';
  if (path.split('/').includes('..')) return 'traversal';
  return undefined;
}

/** `path` with `.` segments and repeated or trailing slashes removed (`/usr//lib/` → `/usr/lib`). */
export function normaliseAbsolutePath(path: string): string {
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  return `/${segments.join('/')}`;
}

/** What `path` means once `..` is applied, to suggest in a traversal message. */
export function resolveDotSegments(path: string): string {
  const resolved: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') resolved.pop();
    else resolved.push(segment);
  }
  return `/${resolved.join('/')}`;
}
