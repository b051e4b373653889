import {
  SupervisorService,
  type AgentHello,
  type SessionRequest,
  type SessionResponse,
} from '@openshell/proto';
import type { EventOutbox } from './event-outbox.js';
import type { Logger } from './logger.js';
import { openGrpcStream, type GrpcStream } from './open-grpc-stream.js';
import type { SessionEngine } from './session-engine.js';
import type { SessionChannel } from './session-events.js';

export interface GatewayConnectionOptions {
  /** `host:port` of the gateway's supervisor endpoint. */
  readonly target: string;
  /** PEM of the CA the gateway's certificate must chain to; undefined = plaintext (tests). */
  readonly ca: Buffer | undefined;
  /** The per-sandbox token, sent as `authorization: Bearer <token>`. */
  readonly token: string;
  readonly engine: SessionEngine;
  readonly outbox: EventOutbox;
  /**
   * The hello to open each stream with; a promise delays only the hello (the connection and
   * TLS handshake start at once), so start-up work such as the kernel probe overlaps them.
   */
  readonly hello: () => AgentHello | Promise<AgentHello>;
  readonly log: Logger;
  /** First reconnect delay; doubles up to maxBackoffMs. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export interface GatewayConnection {
  /** Half-closes the stream (events already written still arrive), then disconnects. */
  close(): Promise<void>;
}

/** How long close() waits for the gateway to end the stream after our half-close. */
const CLOSE_WAIT_MS = 1000;

/** Big enough for an upload chunk or a policy with many rules; bounded against a hostile peer. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Keeps the agent's Session stream to the gateway open: sends hello (with main_pid and
 * policy_version, so a restarted gateway re-adopts a running sandbox), feeds commands to the
 * engine, and reconnects with exponential backoff whenever the stream breaks. The main
 * process is never touched by a reconnect; sessions on the broken stream are abandoned
 * (their clients went with it) and detached shells survive.
 *
 * @example
 * const connection = connectGateway({ target: '10.200.0.1:17671', ca, token, engine, outbox, hello, log });
 */
export function connectGateway(options: GatewayConnectionOptions): GatewayConnection {
  const { engine, outbox, log } = options;
  const initialBackoff = options.initialBackoffMs ?? 100;
  const maxBackoff = options.maxBackoffMs ?? 5000;
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let current:
    | { readonly end: () => void; readonly cancel: () => void; readonly closed: Promise<void> }
    | undefined;

  function scheduleReconnect(): void {
    if (stopped) return;
    const base = Math.min(maxBackoff, initialBackoff * 2 ** failures);
    failures += 1;
    // ±20% jitter so a gateway restart is not met by every sandbox in the same millisecond.
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    timer = setTimeout(openStream, delay);
  }

  function openStream(): void {
    if (stopped) return;
    const call: GrpcStream<SessionRequest, SessionResponse> = openGrpcStream({
      target: options.target,
      ca: options.ca,
      method: SupervisorService.session,
      metadata: { authorization: `Bearer ${options.token}` },
      maxMessageBytes: MAX_MESSAGE_BYTES,
    });
    let open = true;
    let connected = false;
    let markClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const channel: SessionChannel = {
      send(event) {
        if (open) call.write(event);
      },
    };
    // Queued and sticky events (the main process's exit) go out, and the backoff resets, only
    // once the gateway has answered hello (it always sends at least the current policy):
    // response headers alone also come with a rejection (UNAUTHENTICATED), and resetting
    // there would retry a refusing gateway ten times a second.
    function markConnected(): void {
      if (connected || !open) return;
      connected = true;
      failures = 0;
      log('connected to gateway', { target: options.target });
      outbox.add(channel);
    }
    function finish(reason: string): void {
      if (!open) return;
      open = false;
      outbox.remove(channel);
      engine.closeChannel(channel);
      call.end();
      markClosed();
      log('gateway stream closed', { reason, reconnecting: !stopped });
      scheduleReconnect();
    }
    current = { end: () => call.end(), cancel: () => call.cancel(), closed };
    call.on('data', (command: SessionResponse) => {
      markConnected();
      engine.handle(command, channel);
    });
    call.on('error', (error) => finish(error.message));
    call.on('end', () => finish('gateway ended the stream'));
    void Promise.resolve(options.hello()).then(
      (hello) => channel.send({ payload: { $case: 'hello', value: hello } }),
      (error: unknown) => finish(`cannot build hello: ${String(error)}`),
    );
  }

  openStream();
  return {
    async close() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      const stream = current;
      if (stream !== undefined) {
        stream.end();
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref());
        await Promise.race([stream.closed, timeout]);
        stream.cancel();
      }
    },
  };
}
