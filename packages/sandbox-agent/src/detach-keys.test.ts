import { describe, expect, test } from 'vitest';
import { createDetachScanner } from './detach-keys.js';

const P = 0x10;
const Q = 0x11;

function feed(chunks: number[][]): { forwarded: number[]; detachedAt: number | undefined } {
  const scan = createDetachScanner();
  const forwarded: number[] = [];
  let detachedAt: number | undefined;
  chunks.forEach((chunk, index) => {
    if (detachedAt !== undefined) return;
    const { forward, detach } = scan(Buffer.from(chunk));
    forwarded.push(...forward);
    if (detach) detachedAt = index;
  });
  return { forwarded, detachedAt };
}

describe('createDetachScanner', () => {
  test.for([
    {
      name: 'plain input passes through',
      chunks: [[0x61, 0x62]],
      forwarded: [0x61, 0x62],
      detachedAt: undefined,
    },
    {
      name: 'Ctrl-P Ctrl-Q in one chunk detaches',
      chunks: [[0x61, P, Q, 0x62]],
      forwarded: [0x61],
      detachedAt: 0,
    },
    {
      name: 'the sequence split across chunks detaches',
      chunks: [[0x61, P], [Q]],
      forwarded: [0x61],
      detachedAt: 1,
    },
    {
      name: 'a lone Ctrl-P is held, then sent with the next byte',
      chunks: [[P], [0x61]],
      forwarded: [P, 0x61],
      detachedAt: undefined,
    },
    {
      name: 'Ctrl-P Ctrl-P Ctrl-Q sends one Ctrl-P and detaches',
      chunks: [[P, P, Q]],
      forwarded: [P],
      detachedAt: 0,
    },
    {
      name: 'Ctrl-Q alone is ordinary input',
      chunks: [[Q, 0x61]],
      forwarded: [Q, 0x61],
      detachedAt: undefined,
    },
    {
      name: 'Ctrl-P then other byte then Ctrl-Q does not detach',
      chunks: [[P, 0x61, Q]],
      forwarded: [P, 0x61, Q],
      detachedAt: undefined,
    },
  ])('$name', ({ chunks, forwarded, detachedAt }) => {
    expect(feed(chunks)).toEqual({ forwarded, detachedAt });
  });
});
