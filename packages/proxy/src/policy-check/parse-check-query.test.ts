import { describe, expect, test } from 'vitest';
import { parseCheckQuery } from './parse-check-query.js';

const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();

describe('parseCheckQuery', () => {
  test.for([
    [
      'https URL with path and query',
      { url: 'https://API.GitHub.com./repos/o/r?per_page=1', method: 'post' },
      { host: 'api.github.com', port: 443, target: '/repos/o/r?per_page=1', method: 'POST' },
    ],
    [
      'http URL defaults to port 80 and path /',
      { url: 'http://plain.example.com' },
      { host: 'plain.example.com', port: 80, target: '/', method: 'GET' },
    ],
    [
      'explicit port, query without path, fragment dropped',
      { url: 'https://example.com:8443?a=1#frag' },
      { host: 'example.com', port: 8443, target: '/?a=1', method: 'GET' },
    ],
    [
      'path tricks are kept raw for decide() to canonicalise',
      { url: 'https://example.com/a/../admin/%2e%2e/x' },
      { host: 'example.com', port: 443, target: '/a/../admin/%2e%2e/x', method: 'GET' },
    ],
    [
      'host= defaults to port 443 and path /',
      { host: 'example.com' },
      { host: 'example.com', port: 443, target: '/', method: 'GET' },
    ],
    [
      'host= with port, path, binary',
      { host: 'example.com', port: '80', path: '/x', binary: '/usr/bin/wget' },
      { host: 'example.com', port: 80, target: '/x', method: 'GET', binary: '/usr/bin/wget' },
    ],
    [
      'bare IPv6 host',
      { host: '::1', port: '8080' },
      { host: '::1', port: 8080, target: '/', method: 'GET' },
    ],
  ] as const)('%s', ([, params, expected]) => {
    const parsed = parseCheckQuery(q(params));
    expect(parsed).toEqual({ ok: true, query: { binary: null, ...expected } });
  });

  test.for([
    ['nothing', '', 'url'],
    ['unknown parameter', q({ url: 'https://a.example/', methd: 'POST' }), 'methd'],
    ['repeated parameter', 'url=https%3A%2F%2Fa.example%2F&url=https%3A%2F%2Fb.example%2F', 'url'],
    ['ftp URL', q({ url: 'ftp://a.example/' }), 'url'],
    ['relative URL', q({ url: '/just/a/path' }), 'url'],
    ['userinfo in URL', q({ url: 'https://u:p@a.example/' }), 'url'],
    ['bad port in URL', q({ url: 'https://a.example:99999/' }), 'url'],
    ['invalid host in URL', q({ url: 'https://a b.example/' }), 'url'],
    ['url and host together', q({ url: 'https://a.example/', host: 'a.example' }), 'host'],
    ['port 0', q({ host: 'a.example', port: '0' }), 'port'],
    ['non-numeric port', q({ host: 'a.example', port: 'https' }), 'port'],
    ['host with port', q({ host: 'a.example:443' }), 'host'],
    ['relative path', q({ host: 'a.example', path: 'x' }), 'path'],
    ['method with a space', q({ url: 'https://a.example/', method: 'GET /x' }), 'method'],
    ['relative binary', q({ url: 'https://a.example/', binary: 'curl' }), 'binary'],
    ['CR/LF in a value', q({ url: 'https://a.example/', binary: '/bin/x\r\nX: y' }), 'binary'],
  ] as const)('%s → refused naming %s', ([, search, parameter]) => {
    const parsed = parseCheckQuery(search);
    expect(parsed).toMatchObject({ ok: false, parameter });
  });

  test('a positive control for the refusals: the same shapes, well-formed, parse', () => {
    expect(parseCheckQuery(q({ url: 'https://a.example/', method: 'DELETE' })).ok).toBe(true);
    expect(parseCheckQuery(q({ host: 'a.example', port: '1', path: '/x' })).ok).toBe(true);
    expect(parseCheckQuery(q({ url: 'https://a.example/', binary: '/usr/bin/curl' })).ok).toBe(
      true,
    );
  });
});
