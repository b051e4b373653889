import { describe, expect, test } from 'vitest';
import { parseUpstreamProxyUrl } from './connect-upstream.js';

describe('parseUpstreamProxyUrl', () => {
  test.for([
    ['http://10.0.0.1:3128', { host: '10.0.0.1', port: 3128 }],
    ['http://proxy.corp.example:8080/', { host: 'proxy.corp.example', port: 8080 }],
    ['http://[fd00::1]:3128', { host: 'fd00::1', port: 3128 }],
    [
      'http://user:p%40ss@10.0.0.1:3128',
      {
        host: '10.0.0.1',
        port: 3128,
        authorization: `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
      },
    ],
  ] as const)('%s', ([text, expected]) => {
    expect(parseUpstreamProxyUrl(text)).toEqual(expected);
  });

  test.for([
    ['10.0.0.1:3128', 'not a URL'],
    ['https://10.0.0.1:3128', 'scheme https:'],
    ['http://10.0.0.1', 'port'],
    ['http://10.0.0.1:3128/path', 'no path'],
    ['not a url', 'not a URL'],
  ] as const)('%s → ERR_USAGE (%s)', ([text, fragment]) => {
    expect(() => parseUpstreamProxyUrl(text)).toThrow(
      expect.objectContaining({ code: 'ERR_USAGE', message: expect.stringContaining(fragment) }),
    );
  });

  test('the password never appears in the error message', () => {
    expect(() => parseUpstreamProxyUrl('http://user:topsecret@h:1/x')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('topsecret') }),
    );
  });
});
