import { describe, expect, test } from 'vitest';
import { parseAbsoluteTarget, parseAuthority } from './request-target.js';

describe('parseAuthority', () => {
  test.for([
    ['api.github.com:443', { host: 'api.github.com', port: 443 }],
    ['API.GitHub.com.:443', { host: 'api.github.com', port: 443 }],
    ['[2001:DB8::1]:8443', { host: '2001:db8::1', port: 8443 }],
    ['10.0.0.1:80', { host: '10.0.0.1', port: 80 }],
    ['example.com', null],
    ['example.com:0', null],
    ['example.com:65536', null],
    ['user@example.com:443', null],
    ['exa mple.com:443', null],
    [':443', null],
    ['a..b:443', null],
    ['2001:db8::1:443', null],
  ] as const)('%s → %j', ([text, expected]) => {
    expect(parseAuthority(text)).toEqual(expected);
  });
});

describe('parseAbsoluteTarget', () => {
  test.for([
    ['http://example.com/a/b?q=1', { host: 'example.com', port: 80, target: '/a/b?q=1' }],
    ['HTTP://example.com:8080', { host: 'example.com', port: 8080, target: '/' }],
    ['http://example.com?x', { host: 'example.com', port: 80, target: '/?x' }],
    ['http://example.com/a/../b', { host: 'example.com', port: 80, target: '/a/../b' }],
  ] as const)('%s', ([url, expected]) => {
    const parsed = parseAbsoluteTarget(url);
    expect(parsed).toEqual({
      ok: true,
      authority: { host: expected.host, port: expected.port },
      target: expected.target,
    });
  });

  test.for([
    ['https://example.com/', 'Use CONNECT'],
    ['/relative', 'absolute http://'],
    ['ftp://example.com/', 'absolute http://'],
    ['http://user:pw@example.com/', 'userinfo'],
    ['http:///path', 'invalid host'],
  ] as const)('%s → 400 (%s)', ([url, fragment]) => {
    const parsed = parseAbsoluteTarget(url);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.detail).toContain(fragment);
  });
});
