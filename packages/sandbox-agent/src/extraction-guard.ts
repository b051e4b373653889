import { lstatSync, readlinkSync } from 'node:fs';
import { OpenShellError } from '@openshell/policy-schema';

/** Symlinks followed while resolving one path; the kernel's own limit (ELOOP) is 40. */
const MAX_LINK_HOPS = 40;

export type GuardedEntryType = 'File' | 'Directory' | 'SymbolicLink' | 'Link';

export interface ArchiveEntryHeader {
  readonly path: string;
  /** node-tar's type name (`File`, `Directory`, `SymbolicLink`, `Link`, `CharacterDevice`, ...). */
  readonly type: string;
  readonly linkpath?: string | undefined;
}

/** An entry that passed the guard, with the paths the extractor should be given. */
export interface GuardedEntry {
  readonly type: GuardedEntryType;
  /** Relative to the destination, symlink-free in every parent component. */
  readonly path: string;
  /** Symlink target as written in the archive, or a hard link's guarded source path. */
  readonly linkpath?: string;
}

const FILE_TYPES: ReadonlySet<string> = new Set(['File', 'OldFile', 'ContiguousFile']);

function refuse(entry: string, reason: string, destination: string): OpenShellError {
  return new OpenShellError(
    'ERR_TRANSFER_REFUSED',
    `upload entry ${JSON.stringify(entry)} refused: ${reason}; entries must stay inside ${destination}`,
    { details: { entry, destination } },
  );
}

/**
 * Decides, entry by entry, whether an upload stays inside its destination, the way the
 * kernel would resolve it: every parent component is looked up (symlinks created earlier in
 * the same archive first, then what is on disk, with lstat) and followed before `..` is
 * applied. Refused: absolute names, `..` components, unsupported types (devices, FIFOs),
 * symlinks whose target resolves outside, hard links to outside or to a symlink, and names
 * whose parent resolves outside through a symlink (from the archive or already in place).
 *
 * The final component is never followed, matching GNU tar, which replaces an existing
 * file or symlink there instead of writing through it. The extractor runs as the sandbox
 * user under Landlock, so a race against this check (the sandbox swapping a directory for a
 * symlink) gains nothing the sandbox user could not already do; the check turns mistakes
 * and hostile archives into a clear refusal.
 */
export class ExtractionGuard {
  private readonly symlinks = new Map<string, string>();
  private readonly created = new Set<string>();

  /** `destination` must be a real path (no symlinks), e.g. from realpathSync. */
  constructor(private readonly destination: string) {}

  /** Checks one entry and records its effect; undefined = skip it (the archive's `./`). */
  check(entry: ArchiveEntryHeader): GuardedEntry | undefined {
    const name = entry.path;
    if (name.includes('\0')) throw refuse(name, 'it contains a NUL byte', this.destination);
    if (name.startsWith('/')) throw refuse(name, 'it is an absolute path', this.destination);
    const parts = name.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.includes('..')) throw refuse(name, 'it contains ".."', this.destination);
    const last = parts.pop();
    if (last === undefined) return undefined;
    const type = this.toGuardedType(entry);
    const parent = this.resolve(name, parts);
    const path = [...parent, last].join('/');
    switch (type) {
      case 'SymbolicLink': {
        const target = entry.linkpath ?? '';
        if (target === '' || target.includes('\0'))
          throw refuse(name, 'the symlink has no usable target', this.destination);
        const start = target.startsWith('/')
          ? this.absoluteToInside(name, target)
          : [...parent, ...target.split('/')];
        this.resolve(name, start, `its target ${JSON.stringify(target)}`);
        this.symlinks.set(path, target);
        this.created.delete(path);
        return { type, path, linkpath: target };
      }
      case 'Link': {
        const source = this.guardLinkSource(name, entry.linkpath ?? '');
        this.symlinks.delete(path);
        this.created.add(path);
        return { type, path, linkpath: source };
      }
      case 'File':
      case 'Directory':
        this.symlinks.delete(path);
        this.created.add(path);
        return { type, path };
    }
  }

  private toGuardedType(entry: ArchiveEntryHeader): GuardedEntryType {
    if (FILE_TYPES.has(entry.type)) return 'File';
    if (entry.type === 'Directory' || entry.type === 'SymbolicLink' || entry.type === 'Link')
      return entry.type;
    throw refuse(
      entry.path,
      `entry type ${entry.type} is not supported (only files, directories, symlinks and hard links)`,
      this.destination,
    );
  }

  /** A hard link's source is a path inside the archive root; it must not be a symlink. */
  private guardLinkSource(name: string, linkpath: string): string {
    if (linkpath === '' || linkpath.startsWith('/') || linkpath.includes('\0')) {
      throw refuse(
        name,
        `hard link source ${JSON.stringify(linkpath)} is not a relative path`,
        this.destination,
      );
    }
    const parts = linkpath.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.includes('..'))
      throw refuse(name, 'its hard link source contains ".."', this.destination);
    const last = parts.pop();
    if (last === undefined)
      throw refuse(name, 'its hard link source is the destination itself', this.destination);
    const source = [...this.resolve(name, parts), last].join('/');
    if (this.linkAt(name, source) !== undefined) {
      throw refuse(
        name,
        `its hard link source ${JSON.stringify(linkpath)} is a symlink`,
        this.destination,
      );
    }
    return source;
  }

  /** An absolute symlink target is acceptable only when it names a place inside the destination. */
  private absoluteToInside(name: string, target: string): string[] {
    if (target !== this.destination && !target.startsWith(`${this.destination}/`)) {
      throw refuse(name, `its target ${JSON.stringify(target)} is outside`, this.destination);
    }
    return target.slice(this.destination.length).split('/');
  }

  /**
   * Resolves components relative to the destination like path resolution in the kernel,
   * following every symlink (callers pass only components the kernel would follow: an
   * entry's parents, a symlink's whole target), and returns the symlink-free components;
   * throws when the walk leaves the destination.
   */
  private resolve(
    name: string,
    components: readonly string[],
    what = 'a parent directory',
  ): string[] {
    const pending = [...components];
    const resolved: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const component = pending.shift() ?? '';
      if (component === '' || component === '.') continue;
      if (component === '..') {
        if (resolved.length === 0)
          throw refuse(name, `${what} leads outside (via "..")`, this.destination);
        resolved.pop();
        continue;
      }
      const candidate = [...resolved, component].join('/');
      const link = this.linkAt(name, candidate);
      if (link === undefined) {
        resolved.push(component);
        continue;
      }
      hops += 1;
      if (hops > MAX_LINK_HOPS)
        throw refuse(name, `${what} has too many levels of symlinks`, this.destination);
      if (link.startsWith('/')) {
        if (link !== this.destination && !link.startsWith(`${this.destination}/`)) {
          throw refuse(
            name,
            `${what} goes through the symlink ${candidate} -> ${link}, outside`,
            this.destination,
          );
        }
        resolved.length = 0;
        pending.unshift(...link.slice(this.destination.length).split('/'));
      } else {
        pending.unshift(...link.split('/'));
      }
    }
    return resolved;
  }

  /** The symlink target at `relative`, if it is a symlink (in the archive so far, else on disk). */
  private linkAt(name: string, relative: string): string | undefined {
    const archived = this.symlinks.get(relative);
    if (archived !== undefined) return archived;
    if (this.created.has(relative)) return undefined;
    const full = `${this.destination}/${relative}`;
    try {
      return lstatSync(full).isSymbolicLink() ? readlinkSync(full) : undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      // Fail closed: a path that cannot be inspected cannot be shown to stay inside.
      throw refuse(name, `${relative} cannot be inspected (${code ?? 'error'})`, this.destination);
    }
  }
}
