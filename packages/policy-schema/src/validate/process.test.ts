import { describe, expect, test } from 'vitest';
import { errorCodes, parseValid, render, yaml } from '../test-helpers/policy-text.js';

function processPolicy(user: string, group = 'sandbox'): string {
  return yaml`
    version: 1
    process:
      run_as_user: ${user}
      run_as_group: ${group}
  `;
}

describe('process identity', () => {
  test('run_as_user root is refused', () => {
    expect(render(processPolicy('root'))).toMatchInlineSnapshot(
      `"policy.yaml:3:16 process.run_as_user: "root" would run the agent as root — use "sandbox" or a uid 1..4294967294"`,
    );
    expect(errorCodes(processPolicy('sandbox'))).toEqual([]);
  });

  test('run_as_group 0 is refused', () => {
    expect(render(processPolicy('sandbox', '0'))).toMatchInlineSnapshot(
      `"policy.yaml:4:17 process.run_as_group: 0 would run the agent in the root group — use "sandbox" or a gid 1..4294967294"`,
    );
    expect(errorCodes(processPolicy('sandbox', '1'))).toEqual([]);
  });

  test('a user name other than sandbox is refused', () => {
    expect(render(processPolicy('nobody'))).toMatchInlineSnapshot(
      `"policy.yaml:3:16 process.run_as_user: "nobody" is not allowed — use "sandbox" or a numeric uid 1..4294967294"`,
    );
    expect(errorCodes(processPolicy('65534'))).toEqual([]);
  });

  test.for([
    ['0', 'ERR_POLICY_RUN_AS_ROOT'],
    ['"0"', 'ERR_POLICY_RUN_AS_ROOT'],
    ['"000"', 'ERR_POLICY_RUN_AS_ROOT'],
    ['root', 'ERR_POLICY_RUN_AS_ROOT'],
    ['-1', 'ERR_POLICY_RUN_AS_INVALID'],
    ['4294967295', 'ERR_POLICY_RUN_AS_INVALID'],
    ['99999999999999999999999', 'ERR_POLICY_RUN_AS_INVALID'],
    ['1.5', 'ERR_POLICY_TYPE'],
    ['Sandbox', 'ERR_POLICY_RUN_AS_INVALID'],
    ['1', undefined],
    ['4294967294', undefined],
    ['"1000"', undefined],
  ] as const)('run_as_user %s → %s', ([user, code]) => {
    expect(errorCodes(processPolicy(user))).toEqual(code === undefined ? [] : [code]);
  });

  test('numeric identities are stored as decimal strings', () => {
    const policy = parseValid(processPolicy('1000', '"0042"'));
    expect(policy.process).toEqual({ run_as_user: '1000', run_as_group: '42' });
  });

  test('absent fields default to sandbox', () => {
    expect(parseValid('version: 1\nprocess: {}\n').process).toEqual({
      run_as_user: 'sandbox',
      run_as_group: 'sandbox',
    });
  });

  test('a list is a type error', () => {
    expect(render(processPolicy('[1000]'))).toMatchInlineSnapshot(
      `"policy.yaml:3:16 process.run_as_user: expected a string or an integer, got a list"`,
    );
  });
});
