import { expect, test } from 'vitest';
import { createDetachScanner } from './detach-keys.js';

const P = '\u0010';
const Q = '\u0011';

test.for([
  ['plain input passes through', ['ls\n'], 'ls\n', false],
  ['Ctrl-P Ctrl-Q in one chunk detaches, input before it is sent', [`ab${P}${Q}cd`], 'ab', true],
  ['split across chunks still detaches', ['x', P, Q], 'x', true],
  ['Ctrl-P then another key forwards both', [`${P}a`], `${P}a`, false],
  ['Ctrl-P Ctrl-P Ctrl-Q forwards one Ctrl-P then detaches', [`${P}${P}${Q}`], P, true],
  ['Ctrl-Q alone passes through', [Q], Q, false],
] as const)('%s', ([, chunks, forwarded, detached]) => {
  const scan = createDetachScanner();
  let out = '';
  let detach = false;
  for (const chunk of chunks) {
    const r = scan(Buffer.from(chunk));
    out += r.forward.toString();
    if (r.detach) {
      detach = true;
      break;
    }
  }
  expect(out).toBe(forwarded);
  expect(detach).toBe(detached);
});
