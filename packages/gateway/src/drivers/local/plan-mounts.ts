import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { FilesystemPolicy } from '@openshell/policy-schema';
import { OpenShellError } from '@openshell/policy-schema';

/** What a path is on the host (or inside a `--from` root). */
export type PathKind =
  | { readonly kind: 'missing' }
  | { readonly kind: 'dir' }
  | { readonly kind: 'file' }
  | { readonly kind: 'symlink'; readonly target: string };

/** Filesystem questions the planner asks; injected so the planner is testable without a host. */
export interface FsInspector {
  inspect(path: string): PathKind;
  list(dir: string): readonly string[];
}

/** One bubblewrap mount operation, in the order it must run. */
export type MountOp =
  | { readonly op: 'ro-bind' | 'bind'; readonly source: string; readonly target: string }
  | { readonly op: 'dir'; readonly target: string }
  | { readonly op: 'symlink'; readonly target: string; readonly linkTarget: string };

/**
 * `base` is the OS (or the `--from` root) and goes first; the driver then lays its tmpfs
 * directories over it, and `extra` (the policy's own paths) goes last so that a policy path
 * under /home or /root is visible through those tmpfs mounts.
 */
export interface MountPlan {
  readonly base: readonly MountOp[];
  readonly extra: readonly MountOp[];
}

/**
 * Paths the driver itself provides inside every sandbox. A policy path under one of them
 * is already covered (or deliberately replaced) and is never bound from the host.
 */
const MANAGED = [
  '/proc',
  '/dev',
  '/tmp',
  '/sandbox',
  '/run/openshell',
  '/run/openshell-public',
  '/etc/passwd',
  '/etc/group',
];
/** Host directories a sandbox always sees read-only: the OS itself (binaries, libraries, /etc). */
const BASE_DIRS = ['/usr', '/etc'];
/** Merged-/usr compatibility links (Debian 12: /bin -> usr/bin); bound as dirs where they are dirs. */
const BASE_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** Top-level names of a `--from` root (or of `/` in a read_only list) that are never bound. */
const SKIP_TOP_LEVEL = new Set(['proc', 'dev', 'sys', 'tmp', 'run', 'sandbox', 'lost+found']);

/** The real filesystem, read synchronously: a handful of lstat calls per sandbox. */
export const HOST_FS: FsInspector = {
  inspect(path) {
    try {
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) return { kind: 'symlink', target: readlinkSync(path) };
      return stat.isDirectory() ? { kind: 'dir' } : { kind: 'file' };
    } catch {
      return { kind: 'missing' };
    }
  },
  list(dir) {
    return readdirSync(dir).sort();
  },
};

function isUnder(path: string, parent: string): boolean {
  return parent === '/' || path === parent || path.startsWith(`${parent}/`);
}

/**
 * Plans the sandbox's root filesystem on bubblewrap's empty tmpfs root: the OS directories
 * read-only, then the policy's extra paths (read_only → ro-bind, read_write → bind), skipping
 * paths the driver manages and paths already visible with the same access. With `from`, the
 * top level of that directory replaces the host's OS directories.
 */
export function planMounts(
  policy: Pick<FilesystemPolicy, 'read_only' | 'read_write'>,
  from: string | undefined,
  fs: FsInspector = HOST_FS,
): MountPlan {
  const root = from ?? '/';
  const base: MountOp[] = [];
  const extra: MountOp[] = [];
  let ops = base;
  const readOnly: string[] = [];
  const writable: string[] = [];
  const madeDirs = new Set(['/', '/root', '/home', '/run', '/tmp']);

  function addEntry(path: string, mode: 'ro-bind' | 'bind'): void {
    // Planned already (an OS directory or merged-/usr link met again through an explicit "/"):
    // bubblewrap refuses a second symlink at the same place, and a second bind adds nothing.
    if ([...base, ...extra].some((op) => op.target === path)) return;
    const source = join(root, path);
    const found = fs.inspect(source);
    if (found.kind === 'missing') return;
    if (found.kind === 'symlink' && posix.dirname(path) === '/') {
      ops.push({ op: 'symlink', target: path, linkTarget: found.target });
      return;
    }
    if (ops === extra) addAncestors(path);
    ops.push({ op: mode, source, target: path });
    madeDirs.add(path);
    (mode === 'bind' ? writable : readOnly).push(path);
  }

  // bubblewrap creates missing parents of a mount point as 0700 root, which would hide a
  // policy path such as /var/cache/x from the sandbox user; `--dir` makes them 0755.
  function addAncestors(path: string): void {
    const parts = path.split('/').slice(1, -1);
    for (let i = 1; i <= parts.length; i += 1) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (madeDirs.has(dir) || base.some((op) => isUnder(dir, op.target))) continue;
      madeDirs.add(dir);
      extra.push({ op: 'dir', target: dir });
    }
  }

  function addTopLevel(mode: 'ro-bind' | 'bind'): void {
    for (const name of fs.list(root)) {
      if (!SKIP_TOP_LEVEL.has(name)) addEntry(`/${name}`, mode);
    }
  }

  if (from === undefined) {
    for (const dir of BASE_DIRS) addEntry(dir, 'ro-bind');
    for (const link of BASE_LINKS) addEntry(link, 'ro-bind');
  } else {
    assertFromRoot(from, fs);
    addTopLevel('ro-bind');
  }

  ops = extra;
  const requests = [
    ...policy.read_only.map((path) => ({ path: posix.normalize(path), mode: 'ro-bind' as const })),
    ...policy.read_write.map((path) => ({ path: posix.normalize(path), mode: 'bind' as const })),
  ].sort((a, b) => a.path.split('/').length - b.path.split('/').length);

  for (const { path, mode } of requests) {
    if (path === '/' && mode === 'ro-bind') {
      // `--ro-bind / /` cannot host the /sandbox mount point and shows everything; an
      // explicit "/" becomes its top-level entries instead.
      addTopLevel('ro-bind');
      continue;
    }
    if (path === '/' || MANAGED.some((managed) => isUnder(path, managed))) continue;
    if (BASE_LINKS.some((link) => isUnder(path, link)) && from === undefined) continue;
    if (writable.some((bound) => isUnder(path, bound))) continue;
    if (mode === 'ro-bind' && readOnly.some((bound) => isUnder(path, bound))) continue;
    if ([...base, ...extra].some((op) => op.target === path)) continue;
    addEntry(path, mode);
  }
  return { base, extra };
}

/**
 * The sandbox user is defined by bind-mounting generated files over /etc/passwd and
 * /etc/group; inside a read-only bind bubblewrap cannot create those mount points.
 */
function assertFromRoot(from: string, fs: FsInspector): void {
  if (fs.inspect(from).kind !== 'dir') {
    throw new OpenShellError(
      'ERR_INPUT_UNREADABLE',
      `--from ${from}: not a directory; pass a root filesystem directory (e.g. an extracted image)`,
    );
  }
  if (fs.inspect(join(from, 'etc')).kind === 'missing') return;
  for (const file of ['passwd', 'group']) {
    if (fs.inspect(join(from, 'etc', file)).kind !== 'file') {
      throw new OpenShellError(
        'ERR_INPUT_UNREADABLE',
        `--from ${from}: etc/${file} is missing; create it (it may be empty) so the driver can replace it with one that defines the sandbox user`,
      );
    }
  }
}

/** Flattens mount operations into bubblewrap arguments. */
export function toBwrapMountArgs(ops: readonly MountOp[]): string[] {
  return ops.flatMap((op) => {
    switch (op.op) {
      case 'symlink':
        return ['--symlink', op.linkTarget, op.target];
      case 'dir':
        return ['--dir', op.target];
      case 'bind':
      case 'ro-bind':
        return [`--${op.op}`, op.source, op.target];
    }
  });
}
