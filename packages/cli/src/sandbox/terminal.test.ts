import { expect, test } from 'vitest';
import { toExitCode } from './terminal.js';

test.for([
  [{ code: 0, timedOut: false }, 0],
  [{ code: 7, timedOut: false }, 7],
  [{ signal: 'SIGKILL', timedOut: false }, 137],
  [{ signal: 'SIGINT', timedOut: false }, 130],
  [{ signal: 'SIGKILL', timedOut: true }, 124],
  [{ timedOut: false }, 1],
] as const)('%j → exit %i', ([exit, code]) => {
  expect(toExitCode(exit)).toBe(code);
});
