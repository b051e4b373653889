// Hand-built tar archives: `tar` and node-tar's create() sanitise names, so hostile entries
// (absolute paths, `..`, escaping links) have to be written header by header.
import { Header, Pax } from 'tar';

export type FixtureEntry =
  | { readonly type: 'File'; readonly path: string; readonly body: string }
  | { readonly type: 'Directory'; readonly path: string }
  | { readonly type: 'SymbolicLink' | 'Link'; readonly path: string; readonly linkpath: string }
  | { readonly type: 'CharacterDevice' | 'FIFO'; readonly path: string };

function pad(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** Encodes entries verbatim as a ustar archive with the two closing zero blocks. */
export function buildTar(entries: readonly FixtureEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = entry.type === 'File' ? Buffer.from(entry.body) : Buffer.alloc(0);
    const header = new Header({
      path: entry.path,
      type: entry.type,
      mode: entry.type === 'Directory' ? 0o755 : 0o644,
      size: body.length,
      mtime: new Date(1_700_000_000_000),
      uid: 0,
      gid: 0,
      ...('linkpath' in entry ? { linkpath: entry.linkpath } : {}),
    });
    const needPax = header.encode();
    if (header.block === undefined) throw new Error(`could not encode ${entry.path}`);
    if (needPax)
      blocks.push(
        new Pax({
          path: entry.path,
          ...('linkpath' in entry ? { linkpath: entry.linkpath } : {}),
        }).encode(),
      );
    blocks.push(header.block, body, pad(body.length));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
