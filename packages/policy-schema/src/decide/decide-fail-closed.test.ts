import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { compilePolicy, decide, type CompiledPolicy, type DecisionRequest } from '../index.js';
import { CURL, L4_POLICY, L7_POLICY, connect, http } from '../test-helpers/decide-fixtures.js';

const l4 = compilePolicy(L4_POLICY);
const l7 = compilePolicy(L7_POLICY);

/** Requests that do not fit the type, as a buggy or hostile caller might send them. */
function malformed(value: Record<string, unknown>): DecisionRequest {
  return value as unknown as DecisionRequest;
}

describe('decide() fails closed', () => {
  test.for([
    ['host is null', malformed({ host: null, port: 443, binary: CURL })],
    ['port is a string', malformed({ host: 'api.github.com', port: '443', binary: CURL })],
    ['port is a bigint', malformed({ host: 'api.github.com', port: 443n, binary: CURL })],
    [
      'port is an object with a throwing toJSON',
      malformed({
        host: 'api.github.com',
        port: {
          toJSON: () => {
            throw new Error('x');
          },
        },
        binary: CURL,
      }),
    ],
    ['binary is missing', malformed({ host: 'api.github.com', port: 443 })],
    ['binary is a number', malformed({ host: 'api.github.com', port: 443, binary: 7 })],
    [
      'ancestors is a string',
      malformed({ host: 'api.github.com', port: 443, binary: '/x', ancestors: CURL }),
    ],
    [
      'method is a number',
      malformed({ host: 'api.github.com', port: 443, binary: CURL, method: 1, target: '/' }),
    ],
    [
      'target is an object',
      malformed({ host: 'api.github.com', port: 443, binary: CURL, method: 'GET', target: {} }),
    ],
  ] as const)('%s → deny', ([, req]) => {
    expect(decide(l7, req)).toMatchObject({ action: 'deny', policy: null, rule: null });
  });

  test('the well-formed versions of those requests are allowed', () => {
    expect(decide(l4, connect('api.github.com')).action).toBe('allow');
    expect(decide(l7, http('api.github.com', 'GET', '/repos/o/r')).action).toBe('allow');
  });

  test('a getter that throws inside the request → deny with the reason', () => {
    const req = malformed({ port: 443, binary: CURL });
    Object.defineProperty(req, 'host', {
      get() {
        throw new Error('boom');
      },
    });
    expect(decide(l4, req)).toMatchObject({
      action: 'deny',
      reason: expect.stringContaining('internal error while deciding (boom)') as string,
    });
  });

  test('a matcher that throws inside the compiled policy → deny', () => {
    const [entry] = l4.endpoints;
    const index = l4.byPort.get(443);
    if (entry === undefined || index === undefined) throw new Error('fixture has endpoints');
    const explode = (): boolean => {
      throw new RangeError('matcher exploded');
    };
    const brokenEntry = { ...entry, policy: { ...entry.policy, matchBinary: explode } };
    const broken: CompiledPolicy = {
      ...l4,
      byPort: new Map([[443, { ...index, exact: new Map([[entry.host, [brokenEntry]]]) }]]),
    };
    expect(decide(broken, connect(entry.host))).toMatchObject({
      action: 'deny',
      reason: expect.stringContaining('matcher exploded') as string,
    });
    expect(decide(l4, connect(entry.host))).toMatchObject({ action: 'allow' });
  });

  test('never throws on arbitrary request objects', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            host: fc.oneof(
              fc.string(),
              fc.constantFrom('api.github.com', 'a.one.test'),
              fc.anything(),
            ),
            port: fc.oneof(fc.integer(), fc.constant(443), fc.anything()),
            binary: fc.oneof(fc.string(), fc.constant(CURL), fc.anything()),
            ancestors: fc.oneof(fc.array(fc.string()), fc.anything()),
            method: fc.oneof(fc.string(), fc.constantFrom('GET', 'POST')),
            target: fc.oneof(fc.string(), fc.constant('/repos/o/r')),
          },
          { requiredKeys: [] },
        ),
        (req) => {
          const decision = decide(l7, malformed(req));
          expect(['allow', 'deny', 'audit']).toContain(decision.action);
          expect(typeof decision.reason).toBe('string');
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('whatever the dot and escape tricks, an allow under /repos/** stays under /repos', () => {
    const chars = fc.constantFrom(
      '/',
      '.',
      '%',
      '2',
      'e',
      'F',
      'f',
      ';',
      'r',
      'e',
      'p',
      'o',
      's',
      '0',
      'z',
    );
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 24 }), (parts) => {
        const target = `/repos/${parts.join('')}`;
        const decision = decide(l7, http('api.github.com', 'GET', target));
        if (decision.action === 'allow') {
          expect(decision.canonicalPath).toMatch(/^\/repos(\/|$)/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('reasons quote hostile text instead of printing it raw', () => {
    const decision = decide(l4, connect('api.github.com', 443, '/tmp/x\nFAKE LOG LINE'));
    expect(decision.action).toBe('deny');
    expect(decision.reason).not.toContain('\n');
    expect(decision.reason).toContain('"/tmp/x\\nFAKE LOG LINE"');
  });
});
