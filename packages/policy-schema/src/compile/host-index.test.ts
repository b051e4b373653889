import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { compileHostPattern, compilePolicy, isValidHost } from '../index.js';
import { makePolicy, type NetworkPolicySpec } from '../test-helpers/policy-fixtures.js';
import { findEndpoints } from './host-index.js';

// The index (exact map + hashed literal suffixes) must find exactly the endpoints a linear
// scan with each endpoint's own matcher finds, in policy order.
describe('host index', () => {
  const label = fc.constantFrom('a', 'b', 'x', 'ab', 'example', 'com', 'test');
  const patternLabel = fc.oneof(label, fc.constantFrom('*', '**', 'a*', '*b', 'x**'));

  test('finds what a linear scan finds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(patternLabel, { minLength: 1, maxLength: 4 }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.array(fc.array(label, { minLength: 1, maxLength: 5 }), { maxLength: 20 }),
        (patterns, hosts) => {
          const specs: Record<string, NetworkPolicySpec> = {};
          patterns.forEach((labels, i) => {
            specs[`p${i}`] = { endpoints: [{ host: labels.join('.') }], binaries: ['/**'] };
          });
          const compiled = compilePolicy(makePolicy(specs));
          const index = compiled.byPort.get(443);
          if (index === undefined) throw new Error('every endpoint is on 443');
          for (const host of hosts.map((labels) => labels.join('.'))) {
            if (!isValidHost(host)) continue;
            const expected = compiled.endpoints
              .filter((entry) => compileHostPattern(entry.host)(host))
              .map((entry) => entry.ordinal);
            expect(findEndpoints(index, host).map((entry) => entry.ordinal)).toEqual(expected);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a port with no endpoints has no index, and ports are kept apart', () => {
    const compiled = compilePolicy(
      makePolicy({ web: { endpoints: [{ host: '*.a.test', ports: [80] }], binaries: ['/**'] } }),
    );
    expect(compiled.byPort.get(443)).toBeUndefined();
    const index = compiled.byPort.get(80);
    expect(index && findEndpoints(index, 'x.a.test').length).toBe(1);
    expect(findEndpoints(compiled.anyPort, 'x.a.test').length).toBe(1);
  });

  test('a hash collision only adds candidates that the full matcher then rejects', () => {
    // The walk hashes right to left (h = h * 31 + c), so "na" and "0c" collide:
    // 31·'a' + 'n' = 31·'c' + '0' = 3117.
    const compiled = compilePolicy(
      makePolicy({
        na: { endpoints: [{ host: '*.na' }], binaries: ['/**'] },
        oc: { endpoints: [{ host: '*.0c' }], binaries: ['/**'] },
      }),
    );
    const index = compiled.byPort.get(443);
    if (index === undefined) throw new Error('every endpoint is on 443');
    expect(index.bySuffix.size).toBe(1);
    expect(findEndpoints(index, 'x.0c').map((entry) => entry.policy.id)).toEqual(['oc']);
    expect(findEndpoints(index, 'x.na').map((entry) => entry.policy.id)).toEqual(['na']);
    expect(findEndpoints(index, 'x.nc')).toEqual([]);
  });
});
