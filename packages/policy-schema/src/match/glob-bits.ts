import {
  OP_CLASS,
  OP_GLOBSTAR,
  OP_LITERAL,
  OP_ONE,
  OP_SPLIT,
  OP_STAR,
  type CharClass,
  type GlobInstruction,
} from './glob-program.js';

/**
 * The same NFA as `runGlobProgram`, simulated bit-parallel (Shift-And style): the set of
 * live states is one 31-bit integer, and a character costs two table lookups and a
 * handful of integer operations instead of a loop over states. Used when the program has
 * at most 30 instructions, which covers real policies; longer ones use the array NFA.
 */
export interface BitProgram {
  /** ASCII code unit → states whose instruction advances on it (state i → i+1). */
  readonly advance: Int32Array;
  /** ASCII code unit → star states that stay on it. */
  readonly stay: Int32Array;
  /** States with an epsilon edge to the next state (stars, splits). */
  readonly epsilonNext: number;
  /** Extra epsilon edges as [fromBit, toBit, ...]. */
  readonly skips: Int32Array;
  readonly accept: number;
  readonly start: number;
  readonly instructions: readonly GlobInstruction[];
  readonly separator: number;
}

export const MAX_BIT_INSTRUCTIONS = 30;

function isInClass(charClass: CharClass, code: number): boolean {
  const { ranges } = charClass;
  let inside = false;
  for (let i = 0; i + 1 < ranges.length; i += 2) {
    if (code >= (ranges[i] ?? 0) && code <= (ranges[i + 1] ?? -1)) {
      inside = true;
      break;
    }
  }
  return inside !== charClass.negated;
}

/** Whether instruction `op` moves to the next state (advance) on code unit `c`. */
function isAdvance(instruction: GlobInstruction, separator: number, c: number): boolean {
  switch (instruction.op) {
    case OP_LITERAL:
      return c === instruction.code;
    case OP_ONE:
      return c !== separator;
    case OP_CLASS:
      return (
        c !== separator && instruction.charClass !== null && isInClass(instruction.charClass, c)
      );
    case OP_STAR:
    case OP_GLOBSTAR:
    case OP_SPLIT:
      return false;
  }
}

/** Whether instruction `op` loops on its own state (a star) on code unit `c`. */
function isStay(instruction: GlobInstruction, separator: number, c: number): boolean {
  return instruction.op === OP_GLOBSTAR || (instruction.op === OP_STAR && c !== separator);
}

/** Masks for one code unit, computed from the instructions (tables cache ASCII). */
function toMasks(
  instructions: readonly GlobInstruction[],
  separator: number,
  c: number,
): [advance: number, stay: number] {
  let advance = 0;
  let stay = 0;
  for (let i = 0; i < instructions.length; i++) {
    const instruction = instructions[i];
    if (instruction === undefined) continue;
    if (isAdvance(instruction, separator, c)) advance |= 1 << i;
    if (isStay(instruction, separator, c)) stay |= 1 << i;
  }
  return [advance, stay];
}

/** Builds the bit-parallel form, or null when the program is too long for one integer. */
export function toBitProgram(
  instructions: readonly GlobInstruction[],
  separator: number,
): BitProgram | null {
  const n = instructions.length;
  if (n > MAX_BIT_INSTRUCTIONS) return null;
  const advance = new Int32Array(128);
  const stay = new Int32Array(128);
  instructions.forEach((instruction, i) => {
    const bit = 1 << i;
    if (instruction.op === OP_LITERAL) {
      if (instruction.code < 128)
        advance[instruction.code] = (advance[instruction.code] ?? 0) | bit;
      return;
    }
    // Only wildcard instructions need a pass over the ASCII table.
    for (let c = 0; c < 128; c++) {
      if (isAdvance(instruction, separator, c)) advance[c] = (advance[c] ?? 0) | bit;
      if (isStay(instruction, separator, c)) stay[c] = (stay[c] ?? 0) | bit;
    }
  });
  let epsilonNext = 0;
  const skips: number[] = [];
  instructions.forEach((instruction, i) => {
    const { op } = instruction;
    if (op === OP_STAR || op === OP_GLOBSTAR || op === OP_SPLIT) epsilonNext |= 1 << i;
    if (instruction.skipTo >= 0) skips.push(1 << i, 1 << instruction.skipTo);
  });
  const program = {
    advance,
    stay,
    epsilonNext,
    skips: Int32Array.from(skips),
    accept: 1 << n,
    start: 1,
    instructions,
    separator,
  };
  return { ...program, start: closeBits(program, 1) };
}

/** Epsilon closure: edges only point forward, so this settles within a few rounds. */
function closeBits(program: Pick<BitProgram, 'epsilonNext' | 'skips'>, states: number): number {
  const { epsilonNext, skips } = program;
  let d = states;
  for (;;) {
    let next = d | ((d & epsilonNext) << 1);
    for (let i = 0; i < skips.length; i += 2) {
      if ((next & (skips[i] ?? 0)) !== 0) next |= skips[i + 1] ?? 0;
    }
    if (next === d) return d;
    d = next;
  }
}

/** Runs the bit-parallel NFA over the whole input (anchored at both ends). */
export function runBitProgram(program: BitProgram, input: string): boolean {
  const { advance, stay } = program;
  let d = program.start;
  for (let p = 0; p < input.length; p++) {
    const c = input.charCodeAt(p);
    let adv: number;
    let sty: number;
    if (c < 128) {
      adv = advance[c] ?? 0;
      sty = stay[c] ?? 0;
    } else {
      [adv, sty] = toMasks(program.instructions, program.separator, c);
    }
    d = ((d & adv) << 1) | (d & sty);
    if (d === 0) return false;
    d = closeBits(program, d);
  }
  return (d & program.accept) !== 0;
}
