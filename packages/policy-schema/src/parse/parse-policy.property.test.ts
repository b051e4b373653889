import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  POLICY_DIAGNOSTIC_CODES,
  hashPolicy,
  parsePolicy,
  policyToYaml,
  type ParseResult,
} from '../index.js';

const EXAMPLES_DIR = fileURLToPath(new URL('../../../../examples/policies/', import.meta.url));
const COMPAT_DIR = fileURLToPath(
  new URL('../../../../../shared/compat/openshell-policies/', import.meta.url),
);

function readYamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => readFileSync(`${dir}${name}`, 'utf8'));
}

const SEEDS = [...readYamlFiles(EXAMPLES_DIR), ...readYamlFiles(COMPAT_DIR)];
const VALID_SEEDS = SEEDS.filter((text) => parsePolicy(text).policy !== undefined);

/** The invariants every parse must keep, whatever the input. */
function checkInvariants(text: string): void {
  let result: ParseResult | undefined;
  expect(() => {
    result = parsePolicy(text, { file: 'fuzz.yaml' });
  }).not.toThrow();
  if (result === undefined) return;
  const lineCount = text.split('\n').length;
  for (const d of result.diagnostics) {
    expect(Number.isInteger(d.line) && d.line >= 1 && d.line <= lineCount + 1).toBe(true);
    expect(Number.isInteger(d.column) && d.column >= 1).toBe(true);
    expect(d.file).toBe('fuzz.yaml');
    expect(Object.hasOwn(POLICY_DIAGNOSTIC_CODES, d.code)).toBe(true);
    expect(d.severity).toBe(
      POLICY_DIAGNOSTIC_CODES[d.code as keyof typeof POLICY_DIAGNOSTIC_CODES],
    );
    // An internal error is a bug in parsePolicy, never an acceptable answer to bad input.
    expect(d.code).not.toBe('ERR_POLICY_INTERNAL');
  }
  const hasError = result.diagnostics.some((d) => d.severity === 'error');
  expect(result.policy === undefined).toBe(hasError);
  if (result.policy !== undefined) {
    const again = parsePolicy(policyToYaml(result.policy)).policy;
    expect(again && hashPolicy(again)).toBe(hashPolicy(result.policy));
  }
}

const YAML_CHARACTERS = [...'abcxyz019 :-\n\t[]{},*&!#\'"|>%@`?~/.\\_=+'];

const replacementValue = fc.oneof(
  fc.constantFrom(
    '[]',
    '{}',
    'null',
    '~',
    '0',
    '-1',
    '65536',
    '1.5',
    'true',
    '""',
    "'x'",
    '*a',
    '&a x',
  ),
  fc.constantFrom(
    '/',
    '..',
    '*',
    '**',
    '*.com',
    'root',
    '127.0.0.1',
    '_provider_x',
    '!!binary aGk=',
  ),
  fc.string({ maxLength: 12 }),
);

type Mutation = (lines: string[]) => string[];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map(
    (i): Mutation =>
      (lines) =>
        lines.filter((_, index) => index !== i % lines.length),
  ),
  fc.nat().map((i): Mutation => (lines) => {
    const at = i % lines.length;
    return [...lines.slice(0, at + 1), lines[at] ?? '', ...lines.slice(at + 1)];
  }),
  fc
    .tuple(
      fc.nat(),
      fc.nat(),
      fc.string({ unit: fc.constantFrom(...YAML_CHARACTERS), maxLength: 6 }),
    )
    .map(
      ([i, j, chars]): Mutation =>
        (lines) =>
          lines.map((line, index) => {
            if (index !== i % lines.length) return line;
            const at = j % (line.length + 1);
            return line.slice(0, at) + chars + line.slice(at);
          }),
    ),
  fc.tuple(fc.nat(), replacementValue).map(
    ([i, value]): Mutation =>
      (lines) =>
        lines.map((line, index) =>
          index === i % lines.length ? line.replace(/(:\s*)(\S.*)$/, `$1${value}`) : line,
        ),
  ),
  fc.tuple(fc.nat(), fc.integer({ min: -4, max: 4 })).map(
    ([i, shift]): Mutation =>
      (lines) =>
        lines.map((line, index) =>
          index !== i % lines.length
            ? line
            : shift >= 0
              ? ' '.repeat(shift) + line
              : line.slice(Math.min(-shift, line.length - line.trimStart().length)),
        ),
  ),
);

/** Every path into a JSON-like value, so a structured mutation can replace any node. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value))
    return [...here, ...value.flatMap((item, i) => pathsOf(item, [...prefix, i]))];
  if (typeof value === 'object' && value !== null) {
    return [...here, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
  }
  return here;
}

function replaceAt(
  value: unknown,
  path: readonly (string | number)[],
  replacement: unknown,
): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return replacement;
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    return items.map((item, i) => (i === head ? replaceAt(item, rest, replacement) : item));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === head ? replaceAt(v, rest, replacement) : v]),
    );
  }
  return value;
}

// Thousands of parses per property: generous timeouts so a loaded CI machine does not turn
// a slow run into a failure (the runs themselves are deterministic per seed).
const PROPERTY_TIMEOUT_MS = 60_000;

describe('parsePolicy under random input (fast-check)', () => {
  test(
    'random text never throws and every diagnostic has a position',
    () => {
      fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), checkInvariants), {
        numRuns: 1000,
      });
    },
    PROPERTY_TIMEOUT_MS,
  );

  test(
    'random YAML-like text never throws',
    () => {
      fc.assert(
        fc.property(
          fc.string({ unit: fc.constantFrom(...YAML_CHARACTERS), maxLength: 200 }),
          checkInvariants,
        ),
        { numRuns: 1500 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  test(
    'line-level mutations of valid policies never throw',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...SEEDS),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          (seed, steps) => {
            const lines = steps.reduce((current, step) => step(current), seed.split('\n'));
            checkInvariants(lines.join('\n'));
          },
        ),
        { numRuns: 1500 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  test(
    'type swaps anywhere in a valid policy never throw',
    () => {
      const seeds = VALID_SEEDS.map((text) => parseYaml(text) as unknown);
      fc.assert(
        fc.property(
          fc.constantFrom(...seeds),
          fc.nat(),
          fc.jsonValue({ maxDepth: 2 }),
          (seed, pick, value) => {
            const paths = pathsOf(seed);
            const target = paths[pick % paths.length] ?? [];
            checkInvariants(stringifyYaml(replaceAt(seed, target, value)));
          },
        ),
        { numRuns: 1500 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
