import { Action } from '@openshell/proto';
import { expect, test } from 'vitest';
import { clearTally, EMPTY_TALLY, tallyDecision, withTally } from './decision-tally.js';
import { makeDecision, makeSandbox } from './test-helpers/fake-term-gateway.js';

test('decisions after the record add to its counts, per sandbox', () => {
  let tally = EMPTY_TALLY;
  for (const action of [
    Action.ACTION_DENY,
    Action.ACTION_DENY,
    Action.ACTION_ALLOW,
    Action.ACTION_AUDIT,
  ]) {
    tally = tallyDecision(tally, makeDecision('alpha', action, 'example.com'));
  }
  tally = tallyDecision(tally, makeDecision('beta', Action.ACTION_ALLOW, 'example.com'));
  const alpha = makeSandbox('alpha', { decisions: { allowed: 10, denied: 1, audited: 0 } });
  expect(withTally(alpha, tally).decisions).toEqual({ allowed: 11, denied: 3, audited: 1 });
  expect(withTally(makeSandbox('beta'), tally).decisions).toEqual({
    allowed: 1,
    denied: 0,
    audited: 0,
  });
  // Control: a sandbox with no new decisions keeps its record's counts.
  const gamma = makeSandbox('gamma', { decisions: { allowed: 4, denied: 2, audited: 0 } });
  expect(withTally(gamma, tally)).toBe(gamma);
});

test('a fresh record clears that sandbox only; a resync clears all', () => {
  let tally = tallyDecision(EMPTY_TALLY, makeDecision('alpha', Action.ACTION_DENY, 'a.test'));
  tally = tallyDecision(tally, makeDecision('beta', Action.ACTION_DENY, 'b.test'));
  const cleared = clearTally(tally, 'id-alpha');
  expect([...cleared.keys()]).toEqual(['id-beta']);
  expect(clearTally(tally).size).toBe(0);
});

test('lifecycle entries are not counted', () => {
  const entry = { ...makeDecision('alpha', Action.ACTION_DENY, 'a.test'), event: undefined };
  expect(tallyDecision(EMPTY_TALLY, entry)).toBe(EMPTY_TALLY);
});
