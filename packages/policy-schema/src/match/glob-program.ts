/**
 * A tiny non-backtracking glob engine shared by path, binary, query and host matchers.
 *
 * Why not RegExp: V8's irregexp backtracks, and a pattern such as `/**\/a/**\/a/**\/b` run
 * against a long attacker-chosen path (`/a/a/a/…`) takes polynomial-to-exponential time.
 * Patterns come from the policy author but the input comes from the sandbox, so the
 * matcher must be linear in the input whatever the pattern is. A glob is compiled to a
 * list of instructions (an NFA whose states are instruction indices) and simulated with a
 * set of active states: O(input × pattern) time, no recursion, no backtracking.
 * `glob-bits.ts` runs the same program bit-parallel when it fits in one integer; the array
 * simulation here covers longer programs, and `toLiteralHints` gives both cheap prefilters.
 */

/** Matches one exact UTF-16 code unit. */
export const OP_LITERAL = 0;
/** `?`: one code unit other than the separator. */
export const OP_ONE = 1;
/** `[...]`: one code unit in (or, negated, not in) a set; never the separator. */
export const OP_CLASS = 2;
/** `*`: any run (possibly empty) of code units other than the separator. */
export const OP_STAR = 3;
/** `**`: any run (possibly empty) of code units, separators included. */
export const OP_GLOBSTAR = 4;
/** Consumes nothing: continues to the next instruction or to `skipTo` (an optional group). */
export const OP_SPLIT = 5;

export type GlobOp =
  | typeof OP_LITERAL
  | typeof OP_ONE
  | typeof OP_CLASS
  | typeof OP_STAR
  | typeof OP_GLOBSTAR
  | typeof OP_SPLIT;

/** A character class as sorted-or-not inclusive ranges `[lo0, hi0, lo1, hi1, ...]`. */
export interface CharClass {
  readonly negated: boolean;
  readonly ranges: readonly number[];
}

export interface GlobInstruction {
  readonly op: GlobOp;
  /** OP_LITERAL: the code unit. */
  readonly code: number;
  readonly charClass: CharClass | null;
  /** An extra epsilon edge to a later instruction (optional segments), or -1. */
  readonly skipTo: number;
}

/** A compiled program plus scratch buffers, so matching allocates nothing. */
export interface GlobProgram {
  readonly ops: Uint8Array;
  readonly codes: Int32Array;
  readonly skips: Int32Array;
  readonly classes: readonly (CharClass | null)[];
  /** Separator code unit, or -1 when `*` may match anything. */
  readonly separator: number;
  readonly current: Uint8Array;
  readonly next: Uint8Array;
}

/** Packs instructions into typed arrays for the simulation loop. */
export function toGlobProgram(
  instructions: readonly GlobInstruction[],
  separator: number,
): GlobProgram {
  const n = instructions.length;
  const ops = new Uint8Array(n);
  const codes = new Int32Array(n);
  const skips = new Int32Array(n);
  const classes: (CharClass | null)[] = [];
  instructions.forEach((instruction, i) => {
    ops[i] = instruction.op;
    codes[i] = instruction.code;
    skips[i] = instruction.skipTo;
    classes.push(instruction.charClass);
  });
  return {
    ops,
    codes,
    skips,
    classes,
    separator,
    current: new Uint8Array(n + 1),
    next: new Uint8Array(n + 1),
  };
}

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

/** Follows epsilon edges; every edge points forward, so one ascending pass reaches a fixpoint. */
function closeStates(program: GlobProgram, states: Uint8Array): void {
  const { ops, skips } = program;
  const n = ops.length;
  for (let i = 0; i < n; i++) {
    if (states[i] === 0) continue;
    const op = ops[i];
    if (op === OP_STAR || op === OP_GLOBSTAR || op === OP_SPLIT) states[i + 1] = 1;
    const skip = skips[i] ?? -1;
    if (skip >= 0) states[skip] = 1;
  }
}

/** Runs the program over the whole input (anchored at both ends). */
export function runGlobProgram(program: GlobProgram, input: string): boolean {
  const { ops, codes, classes, separator } = program;
  const n = ops.length;
  let current = program.current;
  let next = program.next;
  current.fill(0);
  current[0] = 1;
  closeStates(program, current);
  for (let p = 0; p < input.length; p++) {
    const c = input.charCodeAt(p);
    next.fill(0);
    let alive = false;
    for (let i = 0; i < n; i++) {
      if (current[i] === 0) continue;
      const op: number = ops[i] ?? -1;
      switch (op) {
        case OP_LITERAL:
          if (c === codes[i]) {
            next[i + 1] = 1;
            alive = true;
          }
          break;
        case OP_ONE:
          if (c !== separator) {
            next[i + 1] = 1;
            alive = true;
          }
          break;
        case OP_CLASS: {
          const charClass = classes[i];
          if (c !== separator && charClass !== null && charClass !== undefined) {
            if (isInClass(charClass, c)) {
              next[i + 1] = 1;
              alive = true;
            }
          }
          break;
        }
        case OP_STAR:
          if (c !== separator) {
            next[i] = 1;
            alive = true;
          }
          break;
        case OP_GLOBSTAR:
          next[i] = 1;
          alive = true;
          break;
        default:
          break;
      }
    }
    if (!alive) return false;
    closeStates(program, next);
    const swap = current;
    current = next;
    next = swap;
  }
  return current[n] === 1;
}

/** Literal text every match must contain: at its start, at its end, and somewhere inside. */
export interface LiteralHints {
  readonly prefix: string;
  readonly suffix: string;
  /** The longest required literal run (may equal prefix or suffix). */
  readonly infix: string;
}

/**
 * Derives cheap necessary conditions from the program: a literal instruction that no
 * epsilon edge can jump over is consumed on every accepting path, in order. Matchers test
 * these with native string functions first and run the NFA only on plausible inputs.
 */
export function toLiteralHints(instructions: readonly GlobInstruction[]): LiteralHints {
  const n = instructions.length;
  const optional = new Uint8Array(n);
  instructions.forEach((instruction, i) => {
    if (instruction.skipTo < 0) return;
    // A split skips what follows it; a literal with a skip edge can itself be skipped.
    const from = instruction.op === OP_SPLIT ? i + 1 : i;
    for (let j = from; j < instruction.skipTo && j < n; j++) optional[j] = 1;
  });
  const runs: { start: number; text: string }[] = [];
  let text = '';
  let start = 0;
  instructions.forEach((instruction, i) => {
    if (instruction.op === OP_LITERAL && optional[i] === 0) {
      if (text === '') start = i;
      text += String.fromCharCode(instruction.code);
      return;
    }
    if (text !== '') runs.push({ start, text });
    text = '';
  });
  if (text !== '') runs.push({ start, text });
  const first = runs[0];
  const last = runs[runs.length - 1];
  const prefix = first !== undefined && first.start === 0 ? first.text : '';
  const suffix =
    last !== undefined && last.start + last.text.length === n && last !== first ? last.text : '';
  let infix = '';
  for (const run of runs) if (run.text.length > infix.length) infix = run.text;
  return { prefix, suffix, infix };
}
