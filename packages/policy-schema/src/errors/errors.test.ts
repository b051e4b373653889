import { describe, expect, test } from 'vitest';
import {
  ERROR_CODES,
  GRPC_STATUS,
  OpenShellError,
  exitCodeOf,
  isOpenShellError,
  toOpenShellError,
} from '../index.js';

describe('error catalogue', () => {
  test.for(Object.entries(ERROR_CODES))('%s maps to valid statuses', ([code, info]) => {
    expect(code).toMatch(/^ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
    expect(Object.values(GRPC_STATUS)).toContain(info.grpc);
    expect(info.http).toBeGreaterThanOrEqual(400);
    expect(info.http).toBeLessThan(600);
    expect([1, 2, 3, 124]).toContain(info.exit);
  });

  test('exit codes follow REFERENCE.md', () => {
    expect(ERROR_CODES.ERR_POLICY_INVALID.exit).toBe(2);
    expect(ERROR_CODES.ERR_USAGE.exit).toBe(2);
    expect(ERROR_CODES.ERR_POLICY_DENIED.exit).toBe(3);
    expect(ERROR_CODES.ERR_WAIT_TIMEOUT.exit).toBe(124);
    expect(ERROR_CODES.ERR_SANDBOX_NOT_FOUND.exit).toBe(1);
  });
});

describe('OpenShellError', () => {
  test('carries code, details and cause', () => {
    const cause = new Error('ENOENT');
    const err = new OpenShellError('ERR_INPUT_UNREADABLE', 'cannot read p.yaml', {
      cause,
      details: { file: 'p.yaml' },
    });
    expect(err).toMatchObject({ code: 'ERR_INPUT_UNREADABLE', details: { file: 'p.yaml' } });
    expect(err.cause).toBe(cause);
    expect(err.info.grpc).toBe(GRPC_STATUS.INVALID_ARGUMENT);
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      code: 'ERR_INPUT_UNREADABLE',
      message: 'cannot read p.yaml',
      details: { file: 'p.yaml' },
    });
  });

  test('unknown throwables become ERR_INTERNAL with exit 1', () => {
    expect(toOpenShellError('boom')).toMatchObject({ code: 'ERR_INTERNAL', message: 'boom' });
    expect(exitCodeOf(new TypeError('x'))).toBe(1);
    expect(exitCodeOf(new OpenShellError('ERR_WAIT_TIMEOUT', 't'))).toBe(124);
  });

  test('recognises an error from another module copy by name and code', () => {
    const foreign = Object.assign(new Error('x'), { name: 'OpenShellError', code: 'ERR_USAGE' });
    expect(isOpenShellError(foreign)).toBe(true);
    const fake = Object.assign(new Error('x'), { name: 'OpenShellError', code: 'NOPE' });
    expect(isOpenShellError(fake)).toBe(false);
  });
});
