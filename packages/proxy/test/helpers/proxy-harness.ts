import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createProxy,
  type CredentialBinding,
  type DecisionEvent,
  type PolicyAck,
  type Proxy,
  type ProxyDeps,
  type ProxyOptions,
} from '../../src/index.js';

/** The node binary as /proc/<pid>/exe reports it (symlinks resolved). */
export const NODE_EXE = realpathSync(process.execPath);

/** Every loopback client is the test sandbox, like the bin's standalone mode. */
export const LOOPBACK = ['127.0.0.0/8', '::1'];

export interface Harness {
  readonly proxy: Proxy;
  readonly port: number;
  readonly url: string;
  readonly stateDir: string;
  readonly events: DecisionEvent[];
  readonly acks: PolicyAck[];
  /** Applies `yaml` to sandbox `default` with the next version; resolves with the ack. */
  setPolicy(yaml: string, credentialBindings?: readonly CredentialBinding[]): Promise<PolicyAck>;
  close(): Promise<void>;
}

export interface HarnessInput {
  readonly policy?: string;
  readonly options?: Partial<ProxyOptions>;
  readonly deps?: ProxyDeps;
  /** Reuse a state dir (restart tests); otherwise a fresh temp dir, removed on close. */
  readonly stateDir?: string;
}

/** Starts a proxy on 127.0.0.1:0 with a temp state dir and an event/ack collector. */
export async function startHarness(input: HarnessInput = {}): Promise<Harness> {
  const stateDir = input.stateDir ?? mkdtempSync(join(tmpdir(), 'openshell-proxy-test-'));
  const events: DecisionEvent[] = [];
  const acks: PolicyAck[] = [];
  const proxy = await createProxy(
    { stateDir, ...input.options },
    {
      eventSink: (e) => events.push(e),
      onAck: (a) => acks.push(a),
      warn: () => undefined,
      ...input.deps,
    },
  );
  let version = proxy.restored.find((a) => a.sandbox === 'default')?.version ?? 0;
  const harness: Harness = {
    proxy,
    port: proxy.address.port,
    url: `http://127.0.0.1:${proxy.address.port}`,
    stateDir,
    events,
    acks,
    setPolicy: (yaml, credentialBindings = []) =>
      proxy.setSandbox({
        id: 'default',
        sourceAddresses: LOOPBACK,
        policy: yaml,
        version: ++version,
        credentialBindings,
      }),
    async close() {
      await proxy.close();
      if (!input.stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
  if (input.policy !== undefined) {
    const ack = await harness.setPolicy(input.policy);
    if (!ack.ok) throw new Error(`test policy rejected: ${ack.error ?? ''}`);
  }
  return harness;
}
