import { createHash, randomUUID } from 'node:crypto';
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  OutputChannel,
  type AgentHello,
  type ExitStatus,
  type PolicyAck,
  type PolicyPush,
  type ProcessSpec,
  type SessionRequest,
  type SessionResponse,
  type SupervisorServer,
} from '@openshell/proto';
import { OpenShellError } from '@openshell/policy-schema';

type AgentStream = ServerDuplexStream<SessionRequest, SessionResponse>;
type Payload = NonNullable<SessionResponse['payload']>;
type SessionPayload = Extract<Payload, { $case: 'exec' | 'connect' | 'upload' | 'download' }>;

/** What a relayed session (exec, connect, upload, download) hears back from the agent. */
export interface SessionHandlers {
  started?(pid: number | undefined): void;
  output?(channel: 'stdout' | 'stderr', data: Buffer): void;
  exited?(exit: ExitStatus): void;
  failed?(code: string, message: string): void;
  done?(bytes: number, entries: number): void;
  /** The agent's stream broke; the session is gone (the agent abandons it too). */
  lost?(reason: string): void;
}

export interface RelaySession {
  readonly id: string;
  /** Sends a SessionInput to the agent (stdin, eof, resize, signal, detach, cancel). */
  input(input: NonNullable<Extract<Payload, { $case: 'sessionInput' }>['value']['input']>): void;
  /** Stops listening (the agent was told to cancel, or the session ended). */
  close(): void;
}

/** Decisions the hub delegates to the sandbox service. */
export interface SupervisorCallbacks {
  /** The sandbox id owning a token hash, or undefined. */
  sandboxForToken(tokenSha256: string): Promise<string | undefined>;
  /** What to send after hello: the current policy, and the main process unless it runs. */
  answerHello(
    sandboxId: string,
    hello: AgentHello,
  ): Promise<{ readonly push?: PolicyPush; readonly spec?: ProcessSpec }>;
  ack(sandboxId: string, ack: PolicyAck): void;
  mainExited(sandboxId: string, exit: ExitStatus): void;
  connected(sandboxId: string, up: boolean): void;
  log(message: string): void;
}

export interface SupervisorHub {
  readonly service: SupervisorServer;
  isConnected(sandboxId: string): boolean;
  /**
   * Resolves true once the sandbox's agent is connected, false after timeoutMs. Agents
   * reconnect with backoff (≤ 5 s) after a gateway restart; a session asked for in that
   * window waits instead of failing.
   */
  waitConnected(sandboxId: string, timeoutMs: number): Promise<boolean>;
  /** Pushes a policy revision to the sandbox's agent; false when it is not connected. */
  pushPolicy(sandboxId: string, push: PolicyPush): boolean;
  shutdown(sandboxId: string, gracePeriodMs: number): boolean;
  /** Starts a session on the agent; throws ERR_SANDBOX_NOT_READY when it is not connected. */
  openSession(
    sandboxId: string,
    start: (sessionId: string) => SessionPayload,
    handlers: SessionHandlers,
  ): RelaySession;
  /** Ends every agent stream (gateway shutdown); agents reconnect to the next gateway. */
  closeAll(): void;
}

interface Agent {
  readonly stream: AgentStream;
  readonly sessions: Map<string, SessionHandlers>;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The gateway side of the Supervisor service: one long-lived stream per sandbox agent,
 * authenticated by the per-sandbox token (only its SHA-256 is stored), carrying policy pushes
 * and every session multiplexed by id. Session traffic is relayed, never interpreted.
 */
export function createSupervisorHub(callbacks: SupervisorCallbacks): SupervisorHub {
  const agents = new Map<string, Agent>();
  const arrivals = new Map<string, Set<() => void>>();

  function dispatch(sandboxId: string, agent: Agent, message: SessionRequest): void {
    const payload = message.payload;
    if (payload === undefined) return;
    switch (payload.$case) {
      case 'hello':
        return;
      case 'policyAck': {
        if (payload.value.sandboxId !== '' && payload.value.sandboxId !== sandboxId) {
          callbacks.log(`agent of ${sandboxId} acked for ${payload.value.sandboxId}; ignored`);
          return;
        }
        callbacks.ack(sandboxId, { ...payload.value, sandboxId });
        return;
      }
      case 'processExited': {
        const { sessionId, main, exit } = payload.value;
        if (main) {
          callbacks.mainExited(sandboxId, exit ?? { timedOut: false });
          return;
        }
        if (sessionId === undefined) return;
        const session = agent.sessions.get(sessionId);
        agent.sessions.delete(sessionId);
        session?.exited?.(exit ?? { timedOut: false });
        return;
      }
      case 'sessionStarted':
        agent.sessions.get(payload.value.sessionId)?.started?.(payload.value.pid);
        return;
      case 'sessionOutput': {
        const { sessionId, channel, data } = payload.value;
        const which = channel === OutputChannel.OUTPUT_CHANNEL_STDERR ? 'stderr' : 'stdout';
        agent.sessions.get(sessionId)?.output?.(which, Buffer.from(data));
        return;
      }
      case 'sessionFailed': {
        const session = agent.sessions.get(payload.value.sessionId);
        agent.sessions.delete(payload.value.sessionId);
        session?.failed?.(payload.value.code, payload.value.message);
        return;
      }
      case 'transferDone': {
        const session = agent.sessions.get(payload.value.sessionId);
        agent.sessions.delete(payload.value.sessionId);
        session?.done?.(payload.value.bytes, payload.value.entries);
        return;
      }
      case 'identityAnswer':
        // The local driver's proxy reads /proc itself; container drivers will route these.
        return;
    }
  }

  function detach(sandboxId: string, agent: Agent, reason: string): void {
    if (agents.get(sandboxId) !== agent) return;
    agents.delete(sandboxId);
    for (const session of agent.sessions.values()) session.lost?.(reason);
    agent.sessions.clear();
    callbacks.connected(sandboxId, false);
  }

  async function admit(call: AgentStream, first: SessionRequest): Promise<void> {
    const auth = String(call.metadata.get('authorization')[0] ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
    const sandboxId = token === '' ? undefined : await callbacks.sandboxForToken(sha256Hex(token));
    if (sandboxId === undefined) {
      call.emit('error', {
        code: status.UNAUTHENTICATED,
        details: 'unknown or missing sandbox token',
      });
      return;
    }
    if (first.payload?.$case !== 'hello') {
      call.emit('error', {
        code: status.INVALID_ARGUMENT,
        details: 'the first message must be hello',
      });
      return;
    }
    const hello = first.payload.value;
    if (hello.sandboxId !== sandboxId) {
      call.emit('error', {
        code: status.PERMISSION_DENIED,
        details: `this token belongs to another sandbox than ${hello.sandboxId}`,
      });
      return;
    }
    const previous = agents.get(sandboxId);
    if (previous !== undefined) {
      detach(sandboxId, previous, 'the agent reconnected');
      previous.stream.end();
    }
    const agent: Agent = { stream: call, sessions: new Map() };
    agents.set(sandboxId, agent);
    call.on('data', (message: SessionRequest) => dispatch(sandboxId, agent, message));
    call.on('end', () => {
      detach(sandboxId, agent, 'the agent closed its stream');
      call.end();
    });
    call.on('error', () => detach(sandboxId, agent, 'the agent stream failed'));
    call.on('cancelled', () => detach(sandboxId, agent, 'the agent stream was cancelled'));
    const answer = await callbacks.answerHello(sandboxId, hello);
    if (answer.push !== undefined)
      call.write({ payload: { $case: 'policyPush', value: answer.push } });
    if (answer.spec !== undefined) call.write({ payload: { $case: 'spec', value: answer.spec } });
    callbacks.connected(sandboxId, true);
    for (const wake of arrivals.get(sandboxId) ?? []) wake();
  }

  const service: SupervisorServer = {
    session(call: AgentStream) {
      // Until hello is admitted nothing else is processed: a stream with a bad token never
      // reaches the dispatcher.
      call.once('data', (first: SessionRequest) => {
        // Held until the dispatcher is attached, so nothing the agent sends meanwhile is lost.
        call.pause();
        admit(call, first)
          .then(() => call.resume())
          .catch((error: unknown) => {
            callbacks.log(`agent admission failed: ${String(error)}`);
            call.emit('error', {
              code: status.INTERNAL,
              details: 'gateway error admitting the agent',
            });
          });
      });
      call.on('error', () => undefined);
    },
  };

  function send(sandboxId: string, payload: Payload): boolean {
    const agent = agents.get(sandboxId);
    if (agent === undefined) return false;
    agent.stream.write({ payload });
    return true;
  }

  return {
    service,
    isConnected: (sandboxId) => agents.has(sandboxId),
    waitConnected(sandboxId, timeoutMs) {
      if (agents.has(sandboxId)) return Promise.resolve(true);
      return new Promise((resolve) => {
        const set = arrivals.get(sandboxId) ?? new Set<() => void>();
        arrivals.set(sandboxId, set);
        const done = (connected: boolean): void => {
          clearTimeout(timer);
          set.delete(wake);
          if (set.size === 0) arrivals.delete(sandboxId);
          resolve(connected);
        };
        const wake = (): void => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        set.add(wake);
      });
    },
    pushPolicy: (sandboxId, push) => send(sandboxId, { $case: 'policyPush', value: push }),
    shutdown: (sandboxId, gracePeriodMs) =>
      send(sandboxId, { $case: 'shutdown', value: { gracePeriodMs } }),
    openSession(sandboxId, start, handlers) {
      const agent = agents.get(sandboxId);
      if (agent === undefined) {
        throw new OpenShellError(
          'ERR_SANDBOX_NOT_READY',
          `sandbox ${sandboxId} has no connected agent (it is starting, or its agent stopped); check \`openshell sandbox get\``,
        );
      }
      const id = randomUUID();
      agent.sessions.set(id, handlers);
      agent.stream.write({ payload: start(id) });
      return {
        id,
        input(input) {
          if (agents.get(sandboxId) !== agent) return;
          agent.stream.write({
            payload: { $case: 'sessionInput', value: { sessionId: id, input } },
          });
        },
        close() {
          agent.sessions.delete(id);
        },
      };
    },
    closeAll() {
      for (const [sandboxId, agent] of agents) {
        agents.delete(sandboxId);
        agent.stream.end();
      }
    },
  };
}
