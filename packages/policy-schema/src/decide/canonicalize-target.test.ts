import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { canonicalizeTarget } from '../index.js';

const STRICT = { allowEncodedSlash: false };
const LENIENT = { allowEncodedSlash: true };

describe('canonicalizeTarget: paths', () => {
  test.for([
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b/'],
    ['//a//b//', '/a/b/'],
    ['/a/./b', '/a/b'],
    ['/a/.', '/a/'],
    ['/a/b/..', '/a/'],
    ['/a/b/../c', '/a/c'],
    ['/a/..', '/'],
    ['/%2e%2E/', null],
    ['/a/%2e%2e/b', '/b'],
    ['/a/.%2E/b', '/b'],
    ['/a/%2e/b', '/a/b'],
    ['/a/...', '/a/...'],
    ['/a%20b', '/a b'],
    ['/%41%42', '/AB'],
    ['/caf%c3%a9', '/café'],
    ['/100%25', '/100%25'],
    ['/a%252Fb', '/a%252Fb'],
    ['/a\\b', '/a\\b'],
    ['/A/B', '/A/B'],
    ['/..', null],
    ['/a/../..', null],
    ['/a%2Fb', null],
    ['/%zz', null],
    ['/%', null],
    ['/%0', null],
    ['/%00', null],
    ['/%7f', null],
    ['/%1b[31m', null],
    ['/%C0%AE', null],
    ['/%E2%82', null],
    ['/%FF', null],
    ['/a b', null],
    ['/a#b', null],
    ['a/b', null],
    ['*', null],
    ['', null],
  ] as const)('%s → %s', ([target, expected]) => {
    const result = canonicalizeTarget(target, STRICT);
    if (expected === null) {
      expect(result).toMatchObject({ ok: false, reason: expect.any(String) });
    } else {
      expect(result).toMatchObject({ ok: true, path: expected });
    }
  });

  test.for([
    ['/a%2Fb', '/a%2Fb'],
    ['/a%2fb', '/a%2Fb'],
    ['/a%2F..%2Fb', '/a%2F..%2Fb'],
    ['/x/%2F/../y', '/x/y'],
  ] as const)('allowEncodedSlash: %s → %s', ([target, expected]) => {
    expect(canonicalizeTarget(target, LENIENT)).toMatchObject({ ok: true, path: expected });
  });

  test('the refusal says how to allow %2F', () => {
    expect(canonicalizeTarget('/a%2Fb', STRICT)).toEqual({
      ok: false,
      reason: expect.stringContaining('allow_encoded_slash: true') as string,
    });
  });

  test.for([
    ['/admin;x=1', '/admin', '/admin;x=1'],
    ['/a;b/c;d', '/a/c', '/a;b/c;d'],
    ['/public/..;/admin', '/admin', '/public/..;/admin'],
    ['/;x/a', '/a', '/;x/a'],
    ['/a%3bb', '/a', '/a;b'],
  ] as const)(';params: %s → %s and literally %s', ([target, path, literalPath]) => {
    expect(canonicalizeTarget(target, STRICT)).toMatchObject({ ok: true, path, literalPath });
  });

  test('no literalPath without ;', () => {
    const result = canonicalizeTarget('/a/b', STRICT);
    expect(result.ok && 'literalPath' in result).toBe(false);
  });
});

describe('canonicalizeTarget: query', () => {
  const query = (target: string) => {
    const result = canonicalizeTarget(target, STRICT);
    if (!result.ok) throw new Error(result.reason);
    return Object.fromEntries(result.query);
  };

  test.for([
    ['/p', {}],
    ['/p?', {}],
    ['/p?a=1&a=2&b', { a: ['1', '2'], b: [''] }],
    ['/p?a=x+y&b=%2B', { a: ['x y'], b: ['+'] }],
    ['/p?%61=1&a=2', { a: ['1', '2'] }],
    ['/p?a=1&&b=2&', { a: ['1'], b: ['2'] }],
    ['/p?a=b=c', { a: ['b=c'] }],
    ['/p?=v', { '': ['v'] }],
    ['/p?q=line%0Abreak', { q: ['line\nbreak'] }],
    ['/p?path=a%2Fb', { path: ['a/b'] }],
  ] as const)('%s', ([target, expected]) => {
    expect(query(target)).toEqual(expected);
  });

  test('keys are plain map keys, even __proto__', () => {
    const result = canonicalizeTarget('/p?__proto__=1&constructor=2', STRICT);
    expect(result.ok && [...result.query.entries()]).toEqual([
      ['__proto__', ['1']],
      ['constructor', ['2']],
    ]);
  });

  test.for(['/p?a=%zz', '/p?a=%00', '/p?%ff=1'])('%s is refused', (target) => {
    expect(canonicalizeTarget(target, STRICT).ok).toBe(false);
  });
});

describe('canonicalizeTarget on arbitrary input', () => {
  test('never throws, and a canonical path is a fixpoint', () => {
    const chars = fc.constantFrom('/', '.', '%', '2', 'e', 'F', ';', 'a', '?', '=', '&', '\\', '0');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 30 }), fc.boolean(), (parts, allowEncodedSlash) => {
        const target = `/${parts.join('')}`;
        const result = canonicalizeTarget(target, { allowEncodedSlash });
        if (!result.ok) return;
        expect(result.path.startsWith('/')).toBe(true);
        expect(result.path).not.toMatch(/\/\/|\/\.\.?(\/|$)/);
        // Canonicalising the canonical path again changes nothing (idempotent) — when it is
        // still a valid raw target (a decoded space is not).
        if (!/^[\x21-\x7e]+$/.test(result.path)) return;
        const again = canonicalizeTarget(result.path, { allowEncodedSlash: true });
        expect(again).toMatchObject({ ok: true, path: result.path });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('canonicalizeTarget: the fast path agrees with full decoding', () => {
  test('percent-encoding a letter never changes the result', () => {
    const chars = fc.constantFrom('/', '.', 'a', 'b', '?', '=', '&', '-');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 24 }), fc.nat(), (parts, at) => {
        const target = `/${parts.join('')}a`;
        // Encode one `a` or `b` of the path part as %61/%62: same target to every server.
        const pathEnd = target.includes('?') ? target.indexOf('?') : target.length;
        const letters = [...target.slice(0, pathEnd)]
          .map((c, i) => (c === 'a' || c === 'b' ? i : -1))
          .filter((i) => i >= 0);
        const i = letters[at % Math.max(letters.length, 1)];
        if (i === undefined) return;
        const encoded = `${target.slice(0, i)}%6${target[i] === 'a' ? '1' : '2'}${target.slice(i + 1)}`;
        expect(canonicalizeTarget(encoded, STRICT)).toEqual(canonicalizeTarget(target, STRICT));
      }),
      { numRuns: 2000 },
    );
  });
});
