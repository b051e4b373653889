// The host side of the Supervisor service for tests: a TLS gRPC server that admits each
// registered sandbox by its bearer token, answers hello with the policy and main process,
// records what the agent sends, and drives exec sessions. (Modelled on sandbox-agent's
// test/fake-gateway.ts; copied, not imported — packages never import each other's tests.)
import { randomUUID } from 'node:crypto';
import { Server, ServerCredentials, status, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  OutputChannel,
  SupervisorService,
  type PolicyAck,
  type SessionRequest,
  type SessionResponse,
} from '@openshell/proto';
import type { FirstContact } from '../../src/runtime/start-sandbox-runtime.js';

type Stream = ServerDuplexStream<SessionRequest, SessionResponse>;

export interface ExecOutcome {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the agent refused to start the process (SessionFailed). */
  readonly failed?: { readonly code: string; readonly message: string };
}

export interface TestSupervisor {
  readonly port: number;
  /** Admits a sandbox's agent: its token, policy (version 1) and main process. */
  register(id: string, token: string, firstContact: FirstContact): void;
  /** Resolves once that sandbox's agent has said hello and acknowledged its first policy. */
  waitReady(id: string, timeoutMs?: number): Promise<PolicyAck>;
  /** Runs argv as an exec session (through the agent and the launcher); collects the result. */
  exec(id: string, argv: readonly string[], timeoutMs?: number): Promise<ExecOutcome>;
  /** Pushes a policy revision and resolves with the agent's ack. */
  pushPolicy(id: string, version: number, yaml: string): Promise<PolicyAck>;
  /** Every message an agent sent, in order. */
  received(id: string): readonly SessionRequest[];
  stop(): void;
}

export interface TestSupervisorOptions {
  readonly address: string;
  readonly port?: number;
  readonly tls: { readonly cert: Buffer; readonly key: Buffer };
}

interface Peer {
  readonly token: string;
  readonly firstContact: FirstContact;
  readonly received: SessionRequest[];
  stream?: Stream;
}

/** Starts the server on `address:port` (the sandbox reaches it through its /32 route). */
export async function startTestSupervisor(options: TestSupervisorOptions): Promise<TestSupervisor> {
  const peers = new Map<string, Peer>();
  const waiters = new Set<() => void>();
  const server = new Server();

  function answerHello(peer: Peer, stream: Stream, hello: SessionRequest): void {
    const runtime = peer.firstContact;
    // A reconnecting agent (main_pid set) already runs its main process: policy only.
    const reconnect = hello.payload?.$case === 'hello' && hello.payload.value.mainPid !== undefined;
    stream.write({
      payload: {
        $case: 'policyPush',
        value: { version: 1, hash: runtime.policyHash, yaml: runtime.policyYaml },
      },
    });
    if (reconnect) return;
    stream.write({
      payload: {
        $case: 'spec',
        value: { argv: [...runtime.main], env: {}, workdir: '', tty: false, user: '', group: '' },
      },
    });
  }

  server.addService(SupervisorService, {
    session(call: Stream) {
      const auth = String(call.metadata.get('authorization')[0] ?? '');
      const peer = [...peers.values()].find((candidate) => auth === `Bearer ${candidate.token}`);
      if (peer === undefined) {
        call.emit('error', { code: status.UNAUTHENTICATED, details: 'unknown sandbox token' });
        return;
      }
      peer.stream = call;
      call.on('data', (event: SessionRequest) => {
        peer.received.push(event);
        if (event.payload?.$case === 'hello') answerHello(peer, call, event);
        for (const wake of waiters) wake();
      });
      call.on('end', () => call.end());
      // A stream torn down by sandbox deletion is expected; waiters time out on their own.
      call.on('error', () => undefined);
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${options.address}:${String(options.port ?? 0)}`,
      ServerCredentials.createSsl(
        null,
        [{ cert_chain: options.tls.cert, private_key: options.tls.key }],
        false,
      ),
      (error, bound) => (error === null ? resolve(bound) : reject(error)),
    );
  });

  function peerOf(id: string): Peer {
    const peer = peers.get(id);
    if (peer === undefined) throw new Error(`sandbox ${id} is not registered`);
    return peer;
  }

  function send(id: string, payload: SessionResponse['payload']): void {
    const stream = peerOf(id).stream;
    if (stream === undefined) throw new Error(`the agent of sandbox ${id} is not connected`);
    stream.write({ payload });
  }

  function waitFor<T>(
    id: string,
    pick: (event: SessionRequest) => T | undefined,
    timeoutMs: number,
    what: string,
  ): Promise<T> {
    const peer = peerOf(id);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        for (const event of peer.received) {
          const found = pick(event);
          if (found === undefined) continue;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return;
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        const seen = peer.received.map((event) => event.payload?.$case).join(', ');
        reject(
          new Error(`sandbox ${id}: no ${what} within ${String(timeoutMs)} ms; saw [${seen}]`),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  function ackOf(version: number) {
    return (event: SessionRequest): PolicyAck | undefined =>
      event.payload?.$case === 'policyAck' && event.payload.value.version === version
        ? event.payload.value
        : undefined;
  }

  return {
    port,
    register(id, token, firstContact) {
      peers.set(id, { token, firstContact, received: [] });
    },
    waitReady: (id, timeoutMs = 15_000) => waitFor(id, ackOf(1), timeoutMs, 'first policy ack'),
    async exec(id, argv, timeoutMs = 20_000) {
      const sessionId = randomUUID();
      send(id, {
        $case: 'exec',
        value: {
          sessionId,
          process: { argv: [...argv], env: {}, workdir: '', tty: false, user: '', group: '' },
          timeoutMs,
        },
      });
      // No stdin: tools that would prompt (su, passwd) see EOF at once instead of waiting.
      send(id, { $case: 'sessionInput', value: { sessionId, input: { $case: 'eof', value: {} } } });
      const end = await waitFor(
        id,
        (event) => {
          const payload = event.payload;
          if (payload?.$case === 'sessionFailed' && payload.value.sessionId === sessionId) {
            return payload;
          }
          if (payload?.$case === 'processExited' && payload.value.sessionId === sessionId) {
            return payload;
          }
          return undefined;
        },
        timeoutMs + 5000,
        `end of exec ${JSON.stringify(argv)}`,
      );
      const output = { stdout: '', stderr: '' };
      for (const event of peerOf(id).received) {
        if (event.payload?.$case !== 'sessionOutput') continue;
        const { sessionId: owner, channel, data } = event.payload.value;
        if (owner !== sessionId) continue;
        const key = channel === OutputChannel.OUTPUT_CHANNEL_STDERR ? 'stderr' : 'stdout';
        output[key] += Buffer.from(data).toString('utf8');
      }
      if (end.$case === 'sessionFailed') {
        const { code, message } = end.value;
        return { code: null, signal: null, ...output, failed: { code, message } };
      }
      const exit = end.value.exit;
      return { code: exit?.code ?? null, signal: exit?.signal ?? null, ...output };
    },
    async pushPolicy(id, version, yaml) {
      send(id, { $case: 'policyPush', value: { version, hash: '', yaml } });
      return waitFor(id, ackOf(version), 10_000, `policy ack v${String(version)}`);
    },
    received: (id) => peerOf(id).received,
    stop() {
      server.forceShutdown();
    },
  };
}
