import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { toGlobInstructions } from './compile-glob.js';
import { runBitProgram, toBitProgram } from './glob-bits.js';
import { runGlobProgram, toGlobProgram } from './glob-program.js';

// The two NFA simulations must agree exactly; compile-glob.test.ts checks the public
// matcher against an independent RegExp, this pins the engines to each other.
describe('bit-parallel NFA', () => {
  const piece = fc.constantFrom(
    'a',
    'é',
    '/',
    '*',
    '**',
    '?',
    '[ab]',
    '[!a]',
    '[é]',
    '/**/',
    '/**',
    '**/',
  );
  const inputPiece = fc.constantFrom('a', 'b', 'é', '/');

  test('agrees with the array NFA, including non-ASCII input', () => {
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 10 }),
        fc.array(inputPiece, { maxLength: 16 }),
        fc.constantFrom('/', null),
        (parts, inputParts, separator) => {
          const instructions = toGlobInstructions(parts.join(''), separator);
          const sep = separator === null ? -1 : separator.charCodeAt(0);
          const bits = toBitProgram(instructions, sep);
          fc.pre(bits !== null);
          if (bits === null) return;
          const input = inputParts.join('');
          expect(runBitProgram(bits, input)).toBe(
            runGlobProgram(toGlobProgram(instructions, sep), input),
          );
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('is not used past 30 instructions (the array NFA takes over)', () => {
    expect(toBitProgram(toGlobInstructions('/a'.repeat(15), '/'), 47)).not.toBeNull();
    expect(toBitProgram(toGlobInstructions('/a'.repeat(16), '/'), 47)).toBeNull();
  });
});
