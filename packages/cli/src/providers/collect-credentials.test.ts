import { describe, expect, test } from 'vitest';
import { collectProviderRequest, type ProviderInput } from './collect-credentials.js';

const SECRET = 'sk-very-secret-value-123';
const base: ProviderInput = {
  name: 'work',
  type: 'github',
  fromExisting: false,
  credentials: [],
  allowedHosts: [],
};

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a throw');
}

describe('collectProviderRequest', () => {
  test('KEY=VALUE is taken literally; KEY alone reads the environment', () => {
    const r = collectProviderRequest(
      { ...base, credentials: [`A_KEY=${SECRET}=x`, 'GITHUB_TOKEN'] },
      { GITHUB_TOKEN: 'from-env' },
    );
    expect(r.credentials).toEqual({ A_KEY: `${SECRET}=x`, GITHUB_TOKEN: 'from-env' });
    expect(r.type).toBe('github');
  });

  test('--from-existing takes every set known variable of the type, aliases resolve', () => {
    const r = collectProviderRequest(
      { ...base, type: 'claude', fromExisting: true },
      { ANTHROPIC_API_KEY: 'a', CLAUDE_API_KEY: '', OPENAI_API_KEY: 'o' },
    );
    expect(r).toEqual({
      name: 'work',
      type: 'claude-code',
      credentials: { ANTHROPIC_API_KEY: 'a' },
      allowedHosts: [],
    });
  });

  test('generic with --allowed-host is accepted', () => {
    const r = collectProviderRequest(
      { ...base, type: 'generic', credentials: ['TOKEN=t'], allowedHosts: ['api.example.com'] },
      {},
    );
    expect(r.allowedHosts).toEqual(['api.example.com']);
  });

  test.for([
    [{ type: 'nope', credentials: ['A=b'] }, /--type nope: unknown provider type — use one of/],
    [{ name: 'Bad Name', credentials: ['A=b'] }, /--name Bad Name: a provider name/],
    [{ credentials: [] }, /exactly one of --from-existing or --credential/],
    [{ fromExisting: true, credentials: ['A=b'] }, /exactly one of/],
    [{ credentials: ['MISSING_VAR'] }, /environment variable MISSING_VAR is not set/],
    [{ credentials: ['A=b', 'A=c'] }, /--credential A is given twice/],
    [{ credentials: ['1BAD=x'] }, /--credential 1BAD=…: KEY must be/],
    [{ credentials: ['A='] }, /--credential A=: the value is empty/],
    [{ type: 'generic', credentials: ['A=b'] }, /--type generic needs --allowed-host/],
    [
      { type: 'generic', fromExisting: true, allowedHosts: ['x.example.com'] },
      /no known variables/,
    ],
    [{ fromExisting: true }, /none of GITHUB_TOKEN, GH_TOKEN is set/],
    [{ credentials: ['A=b'], allowedHosts: ['*.com'] }, /--allowed-host \*\.com: .*too broad/],
  ] as const)('%o → ERR_USAGE %s', ([input, message]) => {
    const error = errorOf(() => collectProviderRequest({ ...base, ...input }, {}));
    expect(error.code).toBe('ERR_USAGE');
    expect(error.message).toMatch(message);
  });

  test('no error message quotes a secret value', () => {
    const cases: Partial<ProviderInput>[] = [
      { credentials: [`9BAD=${SECRET}`] },
      { credentials: [`A=${SECRET}`, `A=${SECRET}`] },
      { type: 'nope', credentials: [`A=${SECRET}`] },
    ];
    for (const input of cases) {
      const error = errorOf(() => collectProviderRequest({ ...base, ...input }, {}));
      expect(error.message).not.toContain(SECRET);
    }
  });
});
