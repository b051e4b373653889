import { describe, expect, test } from 'vitest';
import type { SensitivityRule } from '@openshell/policy-schema';
import { compileSensitivity, toScannableText } from './sensitivity.js';

const SECRETS: SensitivityRule = { name: 's', builtin: 'secrets', action: 'keep_local' };
const KEYS: SensitivityRule = { name: 'k', builtin: 'private_keys', action: 'refuse' };

describe('builtin secrets detector', () => {
  const rules = compileSensitivity([SECRETS], 100);
  test.for([
    ['AWS access key id', 'key AKIAIOSFODNN7EXAMPLE here', 'aws-access-key-id'],
    [
      'AWS secret assignment',
      `aws_secret_access_key = ${'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'}`,
      'aws-secret-access-key',
    ],
    ['GitHub classic token', `ghp_${'x'.repeat(36)}`, 'github-token'],
    ['GitHub fine-grained token', `github_pat_${'A1'.repeat(20)}`, 'github-fine-grained-token'],
    ['sk- key', 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz', 'sk-api-key'],
    ['Slack token', 'xoxb-1234567890-abcdef', 'slack-token'],
    [
      'JWT',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'jwt',
    ],
    ['password assignment', 'password=hunter22', 'credential-assignment'],
    ['api_key in JSON-ish text', '"api_key": "abcdef123456"', 'credential-assignment'],
  ] as const)('%s → keep_local (%s)', ([, text, detector]) => {
    expect(rules.scan(text)).toEqual({ action: 'keep_local', rule: 's', detector });
  });
  test.for([
    ['prose about keys', 'rotate your AWS keys every 90 days'],
    ['a short sk- word', 'task-sk-1 is done'],
    ['a word ending in sk-', 'disk-abcdefghijklmnopqrstuvwxyz'],
    ['a password mention without a value', 'reset the password: ok'],
    ['a too-short ghp_', 'ghp_short'],
  ] as const)('%s → pass', ([, text]) => {
    expect(rules.scan(text)).toEqual({ action: 'pass' });
  });
});

describe('rule precedence and custom patterns', () => {
  test('refuse wins over keep_local; among equals the first rule in policy order is named', () => {
    const rules = compileSensitivity(
      [SECRETS, { name: 'p1', pattern: 'alpha', action: 'keep_local' }, KEYS],
      100,
    );
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----';
    expect(rules.scan(`AKIAIOSFODNN7EXAMPLE ${pem}`)).toMatchObject({
      action: 'refuse',
      rule: 'k',
    });
    expect(rules.scan('alpha AKIAIOSFODNN7EXAMPLE')).toMatchObject({
      action: 'keep_local',
      rule: 's',
    });
    expect(rules.scan('alpha')).toMatchObject({
      action: 'keep_local',
      rule: 'p1',
      detector: 'pattern',
    });
    expect(rules.scan('beta')).toEqual({ action: 'pass' });
  });

  test('custom patterns use the u flag (\\p{…} classes work)', () => {
    const rules = compileSensitivity(
      [{ name: 'greek', pattern: '\\p{Script=Greek}{3}', action: 'refuse' }],
      100,
    );
    expect(rules.scan('λόγος')).toMatchObject({ action: 'refuse', rule: 'greek' });
    expect(rules.scan('logos')).toEqual({ action: 'pass' });
  });

  test('a pattern that exceeds its time budget counts as matched (fail closed)', () => {
    const rules = compileSensitivity(
      [{ name: 'slow', pattern: '(a+)+$', action: 'keep_local' }],
      50,
    );
    expect(rules.scan(`${'a'.repeat(40)}!`)).toEqual({
      action: 'keep_local',
      rule: 'slow',
      detector: 'pattern-timeout',
    });
    expect(rules.scan('b')).toEqual({ action: 'pass' });
  });
});

describe('toScannableText', () => {
  test('collects every key and string value, decoded, at any depth', () => {
    const text = toScannableText(
      JSON.parse(
        '{"model":"m","messages":[{"content":[{"type":"text","text":"\\u0041KIA"}]}],"n":3}',
      ),
    );
    expect(text.split('\n').sort()).toEqual(
      ['model', 'm', 'messages', 'content', 'type', 'text', 'text', 'AKIA', 'n'].sort(),
    );
  });
});
