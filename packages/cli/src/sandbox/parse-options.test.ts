import { describe, expect, test } from 'vitest';
import {
  parseCpu,
  parseKeyValues,
  parseMemory,
  parseSelector,
  parseUploadSpec,
  readCommandAfterDashes,
} from './parse-options.js';

describe('parseCpu', () => {
  test.for([
    ['1', 1000],
    ['1.5', 1500],
    ['0.25', 250],
    ['0.001', 1],
    ['16', 16000],
  ] as const)('%s → %i millicores', ([text, millis]) => {
    expect(parseCpu(text)).toBe(millis);
  });
  test.for(['0', '0.0001', '-1', 'two', '1.', '', '1e3'])('%j is refused (ERR_USAGE)', (text) => {
    expect(() => parseCpu(text)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });
});

describe('parseMemory', () => {
  test.for([
    ['512m', 512 * 2 ** 20],
    ['2g', 2 * 2 ** 30],
    ['2Gi', 2 * 2 ** 30],
    ['1.5g', 1.5 * 2 ** 30],
    ['1048576', 2 ** 20],
    ['1024k', 2 ** 20],
  ] as const)('%s → %i bytes', ([text, bytes]) => {
    expect(parseMemory(text)).toBe(bytes);
  });
  test.for(['12q', 'lots', '', '1k', '0', '-5m'])('%j is refused (ERR_USAGE)', (text) => {
    expect(() => parseMemory(text)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });
});

describe('key=value parsing', () => {
  test('values may contain "=" and be empty; keys may not be empty', () => {
    expect(parseKeyValues('--env', ['A=1', 'B=x=y', 'C='])).toEqual({ A: '1', B: 'x=y', C: '' });
    expect(() => parseKeyValues('--env', ['=1'])).toThrow(/--env =1: expected KEY=VALUE/);
    expect(parseSelector('team=infra, env=prod')).toEqual({ team: 'infra', env: 'prod' });
  });
  test.for([
    ['./src', { source: './src', dest: undefined }],
    ['./src:/sandbox/x', { source: './src', dest: '/sandbox/x' }],
    ['a:b:/tmp', { source: 'a:b', dest: '/tmp' }],
  ] as const)('--upload %s', ([text, expected]) => {
    expect(parseUploadSpec(text)).toEqual(expected);
  });
});

describe('readCommandAfterDashes', () => {
  // The parsed list is what oclif hands back for `-c a -c b`: regrouped, hence not used.
  test.for([
    [
      ['-n', 'x', '--', 'codex', '-c', 'a=1', '-c', 'b=2'],
      ['codex', '-c', 'a=1', '-c', 'b=2'],
    ],
    [
      ['--', 'env', '-u', 'A', '-u', 'B', 'sh'],
      ['env', '-u', 'A', '-u', 'B', 'sh'],
    ],
    [
      ['--', 'sh', '-c', 'echo --', '--', 'x'],
      ['sh', '-c', 'echo --', '--', 'x'],
    ],
    [['-n', 'x', '--'], []],
  ] as const)('%j → the tokens after the first -- as typed', ([raw, expected]) => {
    expect(readCommandAfterDashes(raw, ['regrouped', 'by', 'oclif'])).toEqual(expected);
  });
  test('without --, the parsed arguments are the command', () => {
    expect(readCommandAfterDashes(['-n', 'x', 'ls', '-la'], ['ls', '-la'])).toEqual(['ls', '-la']);
  });
});
