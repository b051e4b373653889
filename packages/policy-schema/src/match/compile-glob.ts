import {
  OP_CLASS,
  OP_GLOBSTAR,
  OP_LITERAL,
  OP_ONE,
  OP_SPLIT,
  OP_STAR,
  runGlobProgram,
  toGlobProgram,
  toLiteralHints,
  type CharClass,
  type GlobInstruction,
} from './glob-program.js';
import { runBitProgram, toBitProgram } from './glob-bits.js';

/**
 * Glob dialect (paths, binaries, query values):
 * - `*` any run within one segment (never crosses the separator); `?` one character other
 *   than the separator; `[abc]`, `[a-z]`, `[!x]`/`[^x]` one character of a class (never the
 *   separator); an unterminated `[` is a literal `[`.
 * - `**` crosses segments. As a whole segment it also matches zero segments:
 *   `/a/**\/b` matches `/a/b`, `/a/x/y/b`; a trailing `/**` matches the prefix itself and
 *   everything below (`/admin/**` matches `/admin`, `/admin/`, `/admin/x/y`, so a deny on
 *   `/admin/**` cannot be dodged by dropping the trailing slash); a leading `**\/` matches
 *   zero or more leading segments.
 * - There is no escape character: `\` is a literal. Match a literal `*`, `?` or `[` with a
 *   class: `[*]`, `[?]`, `[[]`.
 * - Without a separator (`separator: null`, used for query values) `*` and `**` are the same
 *   and match anything.
 * Matching is case-sensitive and anchored at both ends.
 */
export interface GlobOptions {
  /** The segment separator (`/` for paths and binaries), or null for none. */
  readonly separator: string | null;
}

/** A compiled glob: `true` when the whole input matches. */
export type GlobMatcher = (input: string) => boolean;

const GLOB_META = /[*?[]/;

/** True when the pattern contains glob metacharacters (`*`, `?`, `[`). */
export function hasGlobMeta(pattern: string): boolean {
  return GLOB_META.test(pattern);
}

function literal(code: number): GlobInstruction {
  return { op: OP_LITERAL, code, charClass: null, skipTo: -1 };
}

function simple(op: GlobInstruction['op'], skipTo = -1): GlobInstruction {
  return { op, code: -1, charClass: null, skipTo };
}

/** Parses `[...]` at `start`; returns the class and the index after `]`, or null if unterminated. */
function parseClass(pattern: string, start: number): { charClass: CharClass; end: number } | null {
  let i = start + 1;
  let negated = false;
  if (pattern[i] === '!' || pattern[i] === '^') {
    negated = true;
    i++;
  }
  const ranges: number[] = [];
  let first = true;
  while (i < pattern.length) {
    const c = pattern.charCodeAt(i);
    if (c === 0x5d && !first) return { charClass: { negated, ranges }, end: i + 1 };
    first = false;
    if (pattern[i + 1] === '-' && i + 2 < pattern.length && pattern[i + 2] !== ']') {
      const hi = pattern.charCodeAt(i + 2);
      ranges.push(Math.min(c, hi), Math.max(c, hi));
      i += 3;
    } else {
      ranges.push(c, c);
      i++;
    }
  }
  return null;
}

/** Translates a glob into NFA instructions (see the dialect above). */
export function toGlobInstructions(pattern: string, separator: string | null): GlobInstruction[] {
  const sep = separator === null ? -1 : separator.charCodeAt(0);
  const out: GlobInstruction[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern.charCodeAt(i);
    if (c === 0x2a) {
      let end = i;
      while (pattern.charCodeAt(end) === 0x2a) end++;
      const stars = end - i;
      const afterIsSep = end < pattern.length && pattern.charCodeAt(end) === sep;
      const atEnd = end === pattern.length;
      const beforeIsSep = i > 0 && pattern.charCodeAt(i - 1) === sep;
      if (sep < 0 || stars === 1) {
        out.push(simple(sep < 0 ? OP_GLOBSTAR : OP_STAR));
      } else if (beforeIsSep && (atEnd || afterIsSep)) {
        // `/**` as a whole segment: the separator just emitted becomes optional together
        // with the globstar, so the segment may also match nothing at all.
        const previous = out.pop();
        if (previous === undefined) throw new Error('unreachable: separator precedes **');
        out.push({ ...previous, skipTo: out.length + 2 });
        out.push(simple(OP_GLOBSTAR));
      } else if (i === 0 && afterIsSep) {
        // Leading `**/`: zero or more leading segments. The skip must leave from a state that
        // is only live before anything is consumed, hence a split ahead of the globstar.
        out.push(simple(OP_SPLIT, out.length + 3));
        out.push(simple(OP_GLOBSTAR));
      } else {
        out.push(simple(OP_GLOBSTAR));
      }
      i = end;
      continue;
    }
    if (c === 0x3f) {
      out.push(simple(OP_ONE));
      i++;
      continue;
    }
    if (c === 0x5b) {
      const parsed = parseClass(pattern, i);
      if (parsed !== null) {
        out.push({ op: OP_CLASS, code: -1, charClass: parsed.charClass, skipTo: -1 });
        i = parsed.end;
        continue;
      }
    }
    out.push(literal(c));
    i++;
  }
  return out;
}

/**
 * Compiles a glob into a matcher that runs in O(input × pattern) time whatever either is.
 * @example compileGlob('/repos/**', { separator: '/' })('/repos/o/r') // true
 */
export function compileGlob(pattern: string, options: GlobOptions): GlobMatcher {
  if (!hasGlobMeta(pattern)) {
    return function matchExact(input) {
      return input === pattern;
    };
  }
  const sep = options.separator;
  if (pattern === '**' || (sep === null && /^\*+$/.test(pattern))) {
    return function matchAnything() {
      return true;
    };
  }
  // Fast path for the most common shape, `<literal prefix>/**` (presets, `/repos/**`).
  if (sep !== null && pattern.endsWith(`${sep}**`)) {
    const base = pattern.slice(0, -2);
    if (!hasGlobMeta(base)) {
      const bare = base.slice(0, -1);
      return function matchPrefix(input) {
        return input.startsWith(base) || input === bare;
      };
    }
  }
  return toGlobMatcher(toGlobInstructions(pattern, sep), sep === null ? -1 : sep.charCodeAt(0));
}

/**
 * Builds the matcher for an instruction list: cheap literal checks first (most candidates
 * fail on a literal end or infix), then the bit-parallel NFA, or the array NFA for
 * programs too long for one integer.
 */
export function toGlobMatcher(
  instructions: readonly GlobInstruction[],
  separator: number,
): GlobMatcher {
  const { prefix, suffix, infix } = toLiteralHints(instructions);
  const minLength = prefix.length + suffix.length;
  const checkInfix = infix.length > 2 && infix !== prefix && infix !== suffix;
  const bits = toBitProgram(instructions, separator);
  const program = bits === null ? toGlobProgram(instructions, separator) : null;
  return function matchGlob(input) {
    if (input.length < minLength || !input.startsWith(prefix) || !input.endsWith(suffix)) {
      return false;
    }
    if (checkInfix && !input.includes(infix)) return false;
    return bits !== null
      ? runBitProgram(bits, input)
      : program !== null && runGlobProgram(program, input);
  };
}
