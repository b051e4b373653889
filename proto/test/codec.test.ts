import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { describe, expect, test } from 'vitest';
import {
  Action,
  ControlRequest,
  DecisionEvent,
  DecisionLayer,
  Enforcement,
  ExecRequest,
  ExecStart,
  PolicyAck,
  type ExecRequest as ExecRequestMessage,
} from '../src/index.js';

// Every field set, including a time past 2^32 ms (int64 read back as a JS number) and the
// optional scalars whose presence carries meaning.
const FULL_EVENT: DecisionEvent = {
  timeMs: 1_764_237_302_123,
  sandboxId: 'sbx-01J9Z',
  sandboxName: 'brave-otter',
  policyVersion: 3,
  binary: '/usr/bin/curl',
  pid: 4242,
  ancestors: ['/usr/bin/bash', '/usr/bin/node'],
  matchedBinary: '/usr/bin/curl',
  host: 'api.github.com',
  port: 443,
  method: 'POST',
  path: '/repos/o/r/issues',
  resolvedAddress: '140.82.121.6',
  action: Action.ACTION_DENY,
  layer: DecisionLayer.DECISION_LAYER_L7,
  enforcement: Enforcement.ENFORCEMENT_ENFORCE,
  policy: 'github_api',
  policyName: 'github-api',
  rule: 'POST /repos/o/r/issues',
  reason: 'blocked by deny rule',
  denialCode: 'policy_denied',
};

/** An L4 miss: nothing matched, so every "which rule" field is absent. */
const L4_MISS: DecisionEvent = DecisionEvent.fromPartial({
  timeMs: 1_764_237_302_999,
  sandboxId: 'sbx-01J9Z',
  binary: '/usr/bin/curl',
  host: 'example.com',
  port: 443,
  action: Action.ACTION_DENY,
  layer: DecisionLayer.DECISION_LAYER_L4,
  reason: 'no matching policy',
  denialCode: 'policy_denied',
});

describe('DecisionEvent', () => {
  test.for([
    { name: 'every field set', event: FULL_EVENT },
    { name: 'an L4 miss with the optional fields absent', event: L4_MISS },
  ])('binary round trip keeps $name', ({ event }) => {
    expect(DecisionEvent.decode(DecisionEvent.encode(event).finish())).toEqual(event);
  });

  test('JSON round trip keeps every field and names enums', () => {
    const json = DecisionEvent.toJSON(FULL_EVENT);
    expect(json).toMatchObject({
      action: 'ACTION_DENY',
      layer: 'DECISION_LAYER_L7',
      timeMs: 1_764_237_302_123,
    });
    expect(DecisionEvent.fromJSON(json)).toEqual(FULL_EVENT);
  });

  // `optional` exists so that "pid 0" and "no pid" stay distinguishable after the wire.
  test.for([
    { name: 'pid 0 stays present', pid: 0, expected: 0 },
    { name: 'a known pid stays present', pid: 17, expected: 17 },
    { name: 'an absent pid stays absent', pid: undefined, expected: undefined },
  ])('$name', ({ pid, expected }) => {
    const decoded = DecisionEvent.decode(DecisionEvent.encode({ ...L4_MISS, pid }).finish());
    expect(decoded.pid).toBe(expected);
  });

  test('an absent optional field costs no bytes while an explicit zero is encoded', () => {
    const absent = DecisionEvent.encode({ ...L4_MISS, pid: undefined }).finish().length;
    const zero = DecisionEvent.encode({ ...L4_MISS, pid: 0 }).finish().length;
    expect(zero).toBeGreaterThan(absent);
  });

  test('the proxy stream carries a decision unchanged', () => {
    const frame = ControlRequest.decode(
      ControlRequest.encode({ payload: { $case: 'decision', value: FULL_EVENT } }).finish(),
    );
    expect(frame.payload).toEqual({ $case: 'decision', value: FULL_EVENT });
  });
});

describe('oneof payloads round-trip as { $case, value } unions', () => {
  test.for<{ name: string; message: ExecRequestMessage }>([
    {
      name: 'start',
      message: {
        payload: {
          $case: 'start',
          value: ExecStart.fromPartial({
            sandbox: 'demo',
            argv: ['ls'],
            env: { A: '1' },
            timeoutMs: 5000,
          }),
        },
      },
    },
    { name: 'stdin', message: { payload: { $case: 'stdin', value: Buffer.from([0, 1, 255]) } } },
    { name: 'resize', message: { payload: { $case: 'resize', value: { rows: 24, cols: 80 } } } },
    { name: 'signal', message: { payload: { $case: 'signal', value: 'SIGTERM' } } },
    { name: 'eof', message: { payload: { $case: 'eof', value: {} } } },
    { name: 'no payload', message: { payload: undefined } },
  ])('ExecRequest $name', ({ message }) => {
    expect(ExecRequest.decode(ExecRequest.encode(message).finish())).toEqual(message);
  });
});

// forceLong=number: a 64-bit value a JS number cannot hold exactly must fail the decode
// rather than round to a neighbouring version number.
describe('64-bit fields decode to numbers only while exact', () => {
  test.for([
    { name: 'the largest safe integer decodes exactly', version: 2n ** 53n - 1n, ok: true },
    { name: 'a value past 2^53 is refused', version: 2n ** 60n, ok: false },
  ])('$name', ({ version, ok }) => {
    const bytes = new BinaryWriter()
      .uint32((2 << 3) | 0)
      .uint64(version)
      .finish();
    if (ok) expect(PolicyAck.decode(bytes).version).toBe(Number(version));
    else expect(() => PolicyAck.decode(bytes)).toThrow(/MAX_SAFE_INTEGER/);
  });
});
