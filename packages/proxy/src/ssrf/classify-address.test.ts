import { describe, expect, test } from 'vitest';
import { classifyAddress, isAllowedIp } from './classify-address.js';
import { resolveDestination, type HostResolver } from './resolve-destination.js';
import { createOverrideTable, parseResolveOverride } from './resolve-overrides.js';

describe('classifyAddress', () => {
  test.for([
    ['127.0.0.1', 'blocked', 'loopback'],
    ['127.255.0.9', 'blocked', 'loopback'],
    ['::1', 'blocked', 'loopback'],
    ['169.254.169.254', 'blocked', 'link-local'],
    ['fe80::1', 'blocked', 'link-local'],
    ['0.0.0.0', 'blocked', 'unspecified'],
    ['::', 'blocked', 'unspecified'],
    ['224.0.0.251', 'blocked', 'multicast'],
    ['ff02::1', 'blocked', 'multicast'],
    ['255.255.255.255', 'blocked', 'reserved/broadcast'],
    ['::ffff:127.0.0.1', 'blocked', 'loopback'],
    ['::ffff:169.254.169.254', 'blocked', 'link-local'],
    ['::ffff:7f00:1', 'blocked', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'blocked', 'link-local'],
    ['2002:7f00:0001::1', 'blocked', 'loopback'],
    ['10.1.2.3', 'private', 'rfc1918'],
    ['172.31.255.1', 'private', 'rfc1918'],
    ['192.168.1.1', 'private', 'rfc1918'],
    ['100.64.0.1', 'private', 'cgnat'],
    ['fd12::1', 'private', 'ula'],
    ['::ffff:10.0.0.1', 'private', 'rfc1918'],
    ['172.32.0.1', 'public', 'public'],
    ['93.184.216.34', 'public', 'public'],
    ['2606:4700::1111', 'public', 'public'],
    ['::ffff:8.8.8.8', 'public', 'public'],
    ['not-an-ip', 'blocked', 'unparsable'],
  ] as const)('%s → %s (%s)', ([address, cls, range]) => {
    expect(classifyAddress(address)).toEqual({ class: cls, range });
  });

  test.for([
    ['10.0.5.7', ['10.0.5.0/24'], true],
    ['10.0.6.7', ['10.0.5.0/24'], false],
    ['::ffff:10.0.5.7', ['10.0.5.0/24'], true],
    ['10.0.5.7', ['10.0.5.7'], true],
    ['fd00::5', ['fd00::/64'], true],
    ['10.0.5.7', ['garbage'], false],
  ] as const)('isAllowedIp(%s, %j) → %s', ([address, allowed, expected]) => {
    expect(isAllowedIp(address, allowed)).toBe(expected);
  });
});

describe('resolveDestination', () => {
  const resolver =
    (answers: Record<string, string[]>): HostResolver =>
    (host) => {
      const found = answers[host];
      if (!found)
        return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
      return Promise.resolve(
        found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
    };
  const overrides = createOverrideTable([parseResolveOverride('example.com:443=127.0.0.1:8443')]);

  test('an override is used for exactly its host:port and skips the address checks', async () => {
    const deps = { resolveHost: resolver({ 'example.com': ['127.0.0.1'] }), overrides };
    expect(await resolveDestination('example.com', 443, [], deps)).toEqual({
      ok: true,
      overridden: true,
      targets: [{ address: '127.0.0.1', port: 8443, family: 4 }],
    });
    expect(await resolveDestination('example.com', 80, [], deps)).toMatchObject({
      ok: false,
      kind: 'ssrf',
    });
  });

  test.for([
    ['no such name', 'nx.example.com', { ok: false, kind: 'dns' }],
    ['an empty answer', 'empty.example.com', { ok: false, kind: 'dns' }],
    ['an IP literal is classified without a lookup', '10.9.9.9', { ok: false, kind: 'ssrf' }],
  ] as const)('%s', async ([, host, expected]) => {
    const deps = { resolveHost: resolver({ 'empty.example.com': [] }), overrides };
    expect(await resolveDestination(host, 443, [], deps)).toMatchObject(expected);
  });
});

describe('parseResolveOverride', () => {
  test.for([
    [
      'Example.COM:443=127.0.0.1:8443',
      { host: 'example.com', port: 443, address: '127.0.0.1', addressPort: 8443 },
    ],
    [
      '[2001:db8::1]:443=[::1]:9000',
      { host: '2001:db8::1', port: 443, address: '::1', addressPort: 9000 },
    ],
  ] as const)('%s', ([text, expected]) => {
    expect(parseResolveOverride(text)).toEqual(expected);
  });

  test.for([
    'example.com:443',
    'example.com=127.0.0.1:1',
    'example.com:443=localhost:80',
    'a:0=127.0.0.1:1',
    'a:1=127.0.0.1:70000',
  ])('%s is a usage error', (text) => {
    expect(() => parseResolveOverride(text)).toThrow(
      expect.objectContaining({ code: 'ERR_USAGE' }),
    );
  });
});
