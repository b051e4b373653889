import type { EventRecord, InferenceRouteInput, NewEvent, NewSandbox } from '../gateway-store.js';

/** Records shared by the store contract and the implementation-specific store tests. */

/** A valid sandbox; tests override what they exercise. */
export function sampleSandbox(overrides: Partial<NewSandbox> = {}): NewSandbox {
  return {
    id: 'sb-1',
    name: 'demo',
    labels: { team: 'core' },
    createdAtMs: 1_000,
    phase: 'Provisioning',
    spec: {
      from: 'base',
      providers: ['github'],
      env: { EDITOR: 'vi' },
      command: ['bash', '-l'],
      tty: true,
      memoryBytes: 512 * 1024 * 1024,
      deleteOnExit: false,
    },
    currentPolicyVersion: 0,
    deleteRequested: false,
    tokenSha256: 'a'.repeat(64),
    ...overrides,
  };
}

/** An event with defaults; `payload` doubles as a label the assertions read back. */
export function sampleEvent(payload: string, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    timeMs: 1_000,
    sandboxId: 'sb-1',
    sandboxName: 'demo',
    source: 'proxy',
    level: 'info',
    kind: 'decision',
    payload,
    ...overrides,
  };
}

export const SAMPLE_ROUTE: InferenceRouteInput = {
  name: 'local',
  kind: 'local',
  baseUrl: 'http://127.0.0.1:11434/v1',
  api: 'openai',
  model: 'llama3',
};

/** The id of records[index], failing the test when there is none. */
export function idAt(records: readonly EventRecord[], index: number): number {
  const record = records[index];
  if (record === undefined) throw new Error(`expected an event at index ${index}`);
  return record.id;
}
