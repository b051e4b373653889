import { SandboxPhase } from '@openshell/proto';
import { expect, test } from 'vitest';
import { actionColor, colorProp, phaseColor, shouldUseColor } from './term-colors.js';

test.each<[string, NodeJS.ProcessEnv, boolean, boolean]>([
  ['a TTY', {}, true, true],
  ['a TTY with NO_COLOR=1', { NO_COLOR: '1' }, true, false],
  ['a TTY with NO_COLOR=""', { NO_COLOR: '' }, true, true],
  ['not a TTY', {}, false, false],
])('colour on %s: %s', (_name, env, tty, expected) => {
  expect(shouldUseColor(env, tty)).toBe(expected);
});

test.each([
  [SandboxPhase.SANDBOX_PHASE_READY, 'green'],
  [SandboxPhase.SANDBOX_PHASE_PROVISIONING, 'yellow'],
  [SandboxPhase.SANDBOX_PHASE_ERROR, 'red'],
  [SandboxPhase.SANDBOX_PHASE_DELETING, 'gray'],
])('phase %i is %s with colour and plain without', (phase, color) => {
  expect(phaseColor(phase, true)).toBe(color);
  expect(phaseColor(phase, false)).toBeUndefined();
  expect(colorProp(phaseColor(phase, false))).toEqual({});
});

test.each([
  ['deny', 'red'],
  ['audit', 'yellow'],
  ['allow', 'green'],
] as const)('action %s is %s with colour and plain without', (action, color) => {
  expect(actionColor(action, true)).toBe(color);
  expect(actionColor(action, false)).toBeUndefined();
});
