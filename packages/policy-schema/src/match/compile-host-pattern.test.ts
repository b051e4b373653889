import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { compileHostPattern, isValidHost, normalizeHost, toValidHost } from '../index.js';

const CASES: readonly [pattern: string, host: string, expected: boolean][] = [
  ['api.github.com', 'api.github.com', true],
  ['api.github.com', 'API.GITHUB.COM', true],
  ['api.github.com', 'api.github.com.', true],
  ['API.GitHub.com', 'api.github.com', true],
  ['api.github.com', 'api.github.co', false],
  ['*.example.com', 'a.example.com', true],
  ['*.example.com', 'example.com', false],
  ['*.example.com', 'a.b.example.com', false],
  ['*.example.com', 'aexample.com', false],
  ['**.example.com', 'a.example.com', true],
  ['**.example.com', 'a.b.c.example.com', true],
  ['**.example.com', 'example.com', false],
  ['**.example.com', 'a.example.com.evil.test', false],
  ['*-aiplatform.googleapis.com', 'us-central1-aiplatform.googleapis.com', true],
  ['*-aiplatform.googleapis.com', '-aiplatform.googleapis.com', false],
  ['*-aiplatform.googleapis.com', 'x.y-aiplatform.googleapis.com', false],
  ['**-aiplatform.googleapis.com', 'x.y-aiplatform.googleapis.com', true],
  ['api-*.example.com', 'api-eu.example.com', true],
  ['api-*.example.com', 'api-.example.com', false],
  ['*.s3.*.amazonaws.com', 'b.s3.eu-west-1.amazonaws.com', true],
  ['*.s3.*.amazonaws.com', 'b.s3.amazonaws.com', false],
  ['*.s3.*.amazonaws.com', 'b.s3.x.y.amazonaws.com', false],
  ['*.example.com', 'a..example.com', false],
  ['*.example.com', '*.example.com', false],
  ['*.example.com', 'a b.example.com', false],
  ['10.0.0.1', '10.0.0.1', true],
  ['10.0.0.1', '10.0.0.01', false],
  ['[::1]', '::1', true],
  ['::1', '[0:0:0:0:0:0:0:1]', true],
  ['2001:db8::1', '2001:DB8::0:1', true],
  ['2001:db8::1', '2001:db8::2', false],
];

describe('compileHostPattern', () => {
  test.for(CASES)('%s vs %s → %s', ([pattern, host, expected]) => {
    expect(compileHostPattern(pattern)(host)).toBe(expected);
  });

  test('never throws and stays linear on arbitrary hosts', () => {
    const patterns = ['*.example.com', '**.a.*.b.com', '*-x**y*.z.com', 'exact.test'].map(
      compileHostPattern,
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (host) => {
        for (const match of patterns) expect(typeof match(host)).toBe('boolean');
      }),
    );
    // A near-miss that a backtracking `(.+)*` translation would choke on.
    const hostile = `${'a-'.repeat(100)}.${'a.'.repeat(60)}x.z.com`;
    expect(compileHostPattern('*-*-*-*-*-*-*-*-*-*-*y.z.com')(hostile)).toBe(false);
  });
});

describe('normalizeHost and isValidHost', () => {
  test.for([
    ['Example.COM.', 'example.com', true],
    ['[2001:DB8:0::1]', '2001:db8::1', true],
    ['::ffff:1.2.3.4', '::ffff:102:304', true],
    ['fe80::1%eth0', 'fe80::1%eth0', false],
    ['a..b', 'a..b', false],
    ['', '', false],
    ['under_score.test', 'under_score.test', true],
    [`${'a'.repeat(64)}.test`, `${'a'.repeat(64)}.test`, false],
    [`${'a.'.repeat(127)}ab`, `${'a.'.repeat(127)}ab`, false],
  ] as const)('%s → %s (valid: %s)', ([input, normalised, valid]) => {
    expect(normalizeHost(input)).toBe(normalised);
    expect(isValidHost(normalizeHost(input))).toBe(valid);
  });
});

describe('toValidHost', () => {
  test('equals normalizeHost then isValidHost, on any string', () => {
    const hostish = fc.array(
      fc.constantFrom('a', 'Z', '0', '-', '_', '.', ':', '[', ']', 'f', ' ', '*'),
      {
        maxLength: 40,
      },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          hostish.map((parts) => parts.join('')),
        ),
        (host) => {
          const normalised = normalizeHost(host);
          expect(toValidHost(host)).toBe(isValidHost(normalised) ? normalised : null);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('label and name length limits', () => {
    expect(toValidHost(`${'a'.repeat(63)}.test`)).toBe(`${'a'.repeat(63)}.test`);
    expect(toValidHost(`${'a'.repeat(64)}.test`)).toBeNull();
    expect(toValidHost(`${'a.'.repeat(126)}a`)).toBe(`${'a.'.repeat(126)}a`);
    expect(toValidHost(`${'a.'.repeat(127)}a`)).toBeNull();
  });
});
