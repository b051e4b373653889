import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type ServerDuplexStream,
} from '@grpc/grpc-js';
import { canonicalPolicyJson, hashPolicy, parsePolicy } from '@openshell/policy-schema';
import {
  ProxyControlService,
  type ControlRequest,
  type ControlResponse,
  type CredentialBinding as WireCredentialBinding,
  type DecisionEvent as WireDecisionEvent,
  type PolicyAck as WirePolicyAck,
  type ProxyHealth,
  type ProxyHello,
  type SandboxConfig as WireSandboxConfig,
} from '@openshell/proto';
import { createTestCertificate } from './upstream-servers.js';

type Call = ServerDuplexStream<ControlRequest, ControlResponse>;

/**
 * A stand-in for the gateway's ProxyControl service over real TLS on 127.0.0.1: it checks the
 * bearer token, answers hello with the `desired` full set, and records everything the proxy
 * sends. Stopping and starting it again on the same port simulates a gateway restart.
 */
export interface FakeControlGateway {
  readonly address: string;
  /** Self-signed certificate for 127.0.0.1 and `gateway.test`; it is its own CA. */
  readonly caPem: string;
  /** Bearer tokens accepted; add one to let a refused proxy in. */
  readonly tokens: Set<string>;
  /** The full set a newly greeted stream receives. */
  desired: WireSandboxConfig[];
  readonly hellos: ProxyHello[];
  readonly acks: WirePolicyAck[];
  readonly decisions: WireDecisionEvent[];
  readonly healths: ProxyHealth[];
  /** Per accepted stream, the payload kinds in the order received. */
  readonly streams: string[][];
  /** Control calls received, refused ones included. */
  attempts(): number;
  /** Sends one message to every open stream; returns how many got it. */
  push(message: ControlResponse): number;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the fake gateway on 127.0.0.1 (port 0 on first start, the same port afterwards). */
export async function startFakeControlGateway(token: string): Promise<FakeControlGateway> {
  const cert = await createTestCertificate(['127.0.0.1', 'gateway.test']);
  const open = new Set<Call>();
  let attempts = 0;
  let server: Server | null = null;
  let port = 0;

  const gateway: FakeControlGateway = {
    address: '',
    caPem: cert.certPem,
    tokens: new Set([token]),
    desired: [],
    hellos: [],
    acks: [],
    decisions: [],
    healths: [],
    streams: [],
    attempts: () => attempts,
    push(message) {
      for (const call of open) call.write(message);
      return open.size;
    },
    async stop() {
      const s = server;
      server = null;
      open.clear();
      s?.forceShutdown();
      await Promise.resolve();
    },
    async start() {
      const s = new Server();
      s.addService(ProxyControlService, { control: onControl });
      port = await new Promise<number>((resolve, reject) => {
        s.bindAsync(
          `127.0.0.1:${port}`,
          ServerCredentials.createSsl(null, [
            { private_key: Buffer.from(cert.keyPem), cert_chain: Buffer.from(cert.certPem) },
          ]),
          (error, bound) => (error ? reject(error) : resolve(bound)),
        );
      });
      server = s;
      (gateway as { address: string }).address = `127.0.0.1:${port}`;
    },
    close: () => gateway.stop(),
  };

  function onControl(call: Call): void {
    attempts += 1;
    const authorization = call.metadata.get('authorization')[0];
    const presented =
      typeof authorization === 'string' && authorization.startsWith('Bearer ')
        ? authorization.slice('Bearer '.length)
        : '';
    if (!gateway.tokens.has(presented)) {
      call.emit('error', { code: GrpcStatus.UNAUTHENTICATED, details: 'unknown proxy token' });
      return;
    }
    const kinds: string[] = [];
    gateway.streams.push(kinds);
    open.add(call);
    call.on('data', (request: ControlRequest) => {
      const payload = request.payload;
      kinds.push(payload?.$case ?? 'empty');
      switch (payload?.$case) {
        case 'hello':
          gateway.hellos.push(payload.value);
          call.write({ payload: { $case: 'sandboxSet', value: { sandboxes: gateway.desired } } });
          break;
        case 'policyAck':
          gateway.acks.push(payload.value);
          break;
        case 'decision':
          gateway.decisions.push(payload.value);
          break;
        case 'health':
          gateway.healths.push(payload.value);
          break;
        case undefined:
          break;
      }
    });
    call.on('end', () => {
      open.delete(call);
      call.end();
    });
    call.on('error', () => open.delete(call));
    call.on('cancelled', () => open.delete(call));
  }

  await gateway.start();
  return gateway;
}

export interface WireSandboxInput {
  readonly id: string;
  readonly name?: string;
  readonly sources: readonly string[];
  readonly version: number;
  /** Policy YAML; normalised and hashed here as the gateway does. */
  readonly yaml: string;
  readonly credentials?: readonly WireCredentialBinding[];
  readonly netnsPid?: number;
}

/** A SandboxConfig as the gateway sends it: canonical JSON of the normalised policy, its hash. */
export function toWireSandbox(input: WireSandboxInput): WireSandboxConfig {
  const parsed = parsePolicy(input.yaml, { file: `${input.id}.yaml` });
  if (!parsed.policy) {
    throw new Error(
      `test policy for ${input.id} is invalid: ${JSON.stringify(parsed.diagnostics)}`,
    );
  }
  return {
    sandboxId: input.id,
    sandboxName: input.name ?? input.id,
    sourceAddresses: [...input.sources],
    ...(input.netnsPid === undefined ? {} : { netnsPid: input.netnsPid }),
    policyVersion: input.version,
    policyHash: hashPolicy(parsed.policy),
    policyJson: canonicalPolicyJson(parsed.policy),
    credentials: [...(input.credentials ?? [])],
  };
}

/** Polls `check` every 10 ms until it returns a value; fails naming `what` after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 5_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
