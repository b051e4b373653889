import { expect, test } from 'vitest';
import { findClosest, levenshtein } from './levenshtein.js';

test.for([
  ['demo', 'demo', 0],
  ['dmeo', 'demo', 1],
  ['deom', 'demo', 1],
  ['dem', 'demo', 1],
  ['kitten', 'sitting', 3],
  ['', 'abc', 3],
] as const)('levenshtein(%s, %s) = %i', ([a, b, d]) => {
  expect(levenshtein(a, b)).toBe(d);
});

test('findClosest picks the nearest within a typo distance, nothing otherwise', () => {
  const names = ['demo', 'demo-2', 'worker'];
  expect(findClosest('dmeo', names)).toBe('demo');
  expect(findClosest('wroker', names)).toBe('worker');
  expect(findClosest('zzzzzz', names)).toBeUndefined();
  expect(findClosest('x', names)).toBeUndefined();
});
