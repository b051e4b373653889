import { describe, expect, test } from 'vitest';
import { bindingsFromShapes, compileCredentialBindings } from './credential-bindings.js';
import { rewriteHeaders, rewriteRequest, rewriteText } from './rewrite-placeholders.js';

const creds = compileCredentialBindings([
  {
    provider: 'github',
    hosts: ['api.github.com', '*.githubusercontent.com'],
    credentials: { GITHUB_TOKEN: 'ghp_x' },
  },
  {
    provider: 'anthropic',
    hosts: ['api.anthropic.com'],
    credentials: { ANTHROPIC_API_KEY: 'sk-ant' },
  },
]);
const P = (key: string): string => `openshell:resolve:env:${key}`;

describe('rewriteText', () => {
  test.for([
    [
      'bound host',
      `Bearer ${P('GITHUB_TOKEN')}`,
      'api.github.com',
      { ok: true, value: 'Bearer ghp_x', replaced: 1 },
    ],
    [
      'wildcard-bound host',
      P('GITHUB_TOKEN'),
      'raw.githubusercontent.com',
      { ok: true, value: 'ghp_x', replaced: 1 },
    ],
    [
      'two keys, both bound here',
      `${P('GITHUB_TOKEN')}/${P('GITHUB_TOKEN')}`,
      'api.github.com',
      { ok: true, value: 'ghp_x/ghp_x', replaced: 2 },
    ],
    [
      'no placeholder',
      'Bearer abc',
      'evil.example.org',
      { ok: true, value: 'Bearer abc', replaced: 0 },
    ],
    [
      'another provider’s host',
      P('GITHUB_TOKEN'),
      'api.anthropic.com',
      { ok: false, error: 'credential_endpoint_mismatch' },
    ],
    [
      'an unrelated host',
      P('ANTHROPIC_API_KEY'),
      'evil.example.org',
      { ok: false, error: 'credential_endpoint_mismatch' },
    ],
    [
      'a suffix trick',
      P('GITHUB_TOKEN'),
      'api.github.com.evil.example.org',
      { ok: false, error: 'credential_endpoint_mismatch' },
    ],
    [
      'an unknown key',
      P('NOPE'),
      'api.github.com',
      { ok: false, error: 'credential_endpoint_mismatch' },
    ],
  ] as const)('%s', ([, text, host, expected]) => {
    expect(rewriteText(text, host, creds)).toMatchObject(expected);
  });

  test('a restored binding without its value is known but unavailable (503), not sent elsewhere', () => {
    const restored = compileCredentialBindings(bindingsFromShapes(creds.shapes));
    expect(rewriteText(P('GITHUB_TOKEN'), 'api.github.com', restored)).toMatchObject({
      ok: false,
      error: 'credential_unavailable',
    });
    expect(rewriteText(P('GITHUB_TOKEN'), 'evil.example.org', restored)).toMatchObject({
      ok: false,
      error: 'credential_endpoint_mismatch',
    });
    expect(JSON.stringify(creds.shapes)).not.toContain('ghp_x');
  });
});

describe('rewriteHeaders', () => {
  test('Basic credentials are decoded, rewritten and re-encoded; other headers are kept in order', () => {
    const basic = `Basic ${Buffer.from(`x-access-token:${P('GITHUB_TOKEN')}`).toString('base64')}`;
    const r = rewriteHeaders(
      ['Host', 'api.github.com', 'Authorization', basic, 'X-A', '1'],
      'api.github.com',
      creds,
    );
    expect(r).toEqual({
      ok: true,
      replaced: 1,
      value: [
        'Host',
        'api.github.com',
        'Authorization',
        `Basic ${Buffer.from('x-access-token:ghp_x').toString('base64')}`,
        'X-A',
        '1',
      ],
    });
  });

  test('a placeholder in the query is refused for an unbound host even when headers are clean', () => {
    expect(
      rewriteRequest(['Host', 'x'], `/q?key=${P('GITHUB_TOKEN')}`, 'evil.example.org', creds),
    ).toMatchObject({ ok: false });
    expect(
      rewriteRequest(['Host', 'x'], `/q?key=${P('GITHUB_TOKEN')}`, 'api.github.com', creds),
    ).toMatchObject({
      ok: true,
      value: { target: '/q?key=ghp_x' },
    });
  });
});
