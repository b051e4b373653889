import { readFileSync } from 'node:fs';
import {
  Metadata,
  credentials,
  status as GrpcStatus,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { OpenShellError } from '@openshell/policy-schema';
import {
  ProxyControlClient,
  type ControlRequest,
  type ControlResponse,
  type DecisionEvent as WireDecisionEvent,
} from '@openshell/proto';
import type { Proxy } from '../create-proxy.js';
import { createControlApplier } from './apply-control-message.js';
import { createBoundedQueue } from './bounded-queue.js';
import { toProtoDecision } from './to-proto-decision.js';

export interface ProxyControlOptions {
  /** The gateway's ProxyControl endpoint, `host:port` (`[v6]:port` for IPv6 literals). */
  readonly address: string;
  /** CA (PEM) that signed the gateway's server certificate. */
  readonly caPem: string;
  /** The gateway-issued proxy token, sent as `authorization: Bearer <token>`. Never logged. */
  readonly token: string;
  /** Address sandboxes reach this proxy on (reported in hello). */
  readonly listenAddress: string;
  /** Name the gateway's certificate must carry; default the host part of `address`. */
  readonly serverName?: string;
  /** Interval of health reports. Default 10 s. */
  readonly healthIntervalMs?: number;
  /** Decision events held while the gateway is unreachable. Default 10,000. */
  readonly maxBufferedEvents?: number;
}

export interface ProxyControlDeps {
  readonly warn?: (message: string) => void;
  /** Milliseconds since the epoch, for health reports and how long a session lasted. */
  readonly now?: () => number;
  /** Runs `callback` after `ms`; returns its cancellation. */
  readonly setTimeout?: (callback: () => void, ms: number) => () => void;
}

export interface ProxyControl {
  /** Stops reconnecting, closes the stream and the channel. The proxy keeps running. */
  close(): Promise<void>;
  /** True while a stream is open and the gateway has sent its full sandbox set. */
  connected(): boolean;
  /** Decision events dropped because the buffer was full while the gateway was unreachable. */
  readonly eventsDropped: number;
}

const DEFAULT_HEALTH_INTERVAL_MS = 10_000;
const DEFAULT_MAX_BUFFERED_EVENTS = 10_000;
const BACKOFF_INITIAL_MS = 100;
const BACKOFF_MAX_MS = 5_000;

interface Session {
  readonly call: ClientDuplexStream<ControlRequest, ControlResponse>;
  /** The gateway answered (so it accepted the token) and its full set is applied. */
  synced: boolean;
  /** When it synced (deps.now), to tell a healthy session from a flapping one. */
  syncedAt: number;
  /** False after write() reported backpressure, until 'drain'. */
  writable: boolean;
}

function readProxyVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    // The version is informational (hello); a missing manifest must not stop enforcement.
    return 'unknown';
  }
}

function defaultSetTimeout(callback: () => void, ms: number): () => void {
  const timer = setTimeout(callback, ms);
  return () => clearTimeout(timer);
}

function validate(options: ProxyControlOptions): void {
  if (!/^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/]+):\d{1,5}$/.test(options.address)) {
    throw new OpenShellError(
      'ERR_USAGE',
      `gateway address ${JSON.stringify(options.address)}: expected HOST:PORT, e.g. 127.0.0.1:7443`,
    );
  }
  // A header value cannot hold CR/LF; an empty token can only be a misconfiguration.
  if (options.token === '' || /[\r\n\0]/.test(options.token)) {
    throw new OpenShellError(
      'ERR_USAGE',
      'the gateway token is empty or contains a line break; put only the token in the token file',
    );
  }
  if (!options.caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new OpenShellError(
      'ERR_USAGE',
      'the gateway CA is not a PEM certificate; pass the CA that signed the gateway certificate',
    );
  }
}

function describe(error: ServiceError): string {
  if (error.code === GrpcStatus.UNAUTHENTICATED) {
    return 'the gateway refused the proxy token (UNAUTHENTICATED); check the token file';
  }
  const name = GrpcStatus[error.code] ?? String(error.code);
  return `${name}: ${error.details || error.message}`;
}

/**
 * Keeps the proxy in sync with the gateway over the ProxyControl stream: hello, then the
 * gateway's full sandbox set, upserts, removals and inference routes, each answered with a
 * policy ack; decision events and health go the other way. Reconnects forever with capped
 * exponential backoff; meanwhile the proxy keeps enforcing what it last applied.
 *
 * @example
 * const control = connectProxyControl(proxy, {
 *   address: '127.0.0.1:7443', caPem, token, listenAddress: '10.200.0.1:3128',
 * });
 * // on shutdown
 * await control.close();
 */
export function connectProxyControl(
  proxy: Proxy,
  options: ProxyControlOptions,
  deps: ProxyControlDeps = {},
): ProxyControl {
  validate(options);
  const warn =
    deps.warn ?? ((message: string) => process.stderr.write(`openshell-proxy: ${message}\n`));
  const now = deps.now ?? Date.now;
  const schedule = deps.setTimeout ?? defaultSetTimeout;
  const healthIntervalMs = options.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
  const events = createBoundedQueue<WireDecisionEvent>(
    options.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS,
  );
  const applier = createControlApplier(proxy, warn);
  const proxyVersion = readProxyVersion();
  const client = new ProxyControlClient(
    options.address,
    credentials.createSsl(Buffer.from(options.caPem)),
    {
      ...(options.serverName === undefined
        ? {}
        : {
            'grpc.ssl_target_name_override': options.serverName,
            'grpc.default_authority': options.serverName,
          }),
      // grpc-js's own channel backoff starts at 1 s and grows to 2 min; ours is the contract.
      'grpc.initial_reconnect_backoff_ms': BACKOFF_INITIAL_MS,
      'grpc.max_reconnect_backoff_ms': BACKOFF_MAX_MS,
      // A gateway host that vanishes without a FIN would otherwise look connected for as long
      // as TCP retransmits last; pings on the open stream notice within ~30 s.
      'grpc.keepalive_time_ms': 20_000,
      'grpc.keepalive_timeout_ms': 10_000,
    },
  );

  let closed = false;
  let session: Session | null = null;
  let failures = 0;
  let lastFailure = '';
  let cancelRetry: (() => void) | null = null;
  let cancelHealth: (() => void) | null = null;
  // Applies run one at a time in arrival order, so an upsert never races an earlier one.
  let applying: Promise<void> = Promise.resolve();

  function send(s: Session, message: ControlRequest): void {
    if (!s.call.write(message)) s.writable = false;
  }

  function drainEvents(s: Session): void {
    while (session === s && s.synced && s.writable && events.size > 0) {
      const event = events.shift();
      if (event) send(s, { payload: { $case: 'decision', value: event } });
    }
  }

  function sendHealth(s: Session): void {
    const stats = proxy.stats();
    send(s, {
      payload: {
        $case: 'health',
        value: {
          timeMs: now(),
          sandboxes: stats.sandboxes,
          openTunnels: stats.openTunnels,
          decisionsTotal: stats.decisionsTotal,
          eventsDropped: events.dropped,
        },
      },
    });
  }

  function healthTick(): void {
    cancelHealth = schedule(healthTick, healthIntervalMs);
    if (session?.synced) sendHealth(session);
  }

  async function handle(s: Session, message: ControlResponse): Promise<void> {
    if (!s.synced && message.payload?.$case !== 'sandboxSet') {
      warn(
        `the gateway's first control message was ${message.payload?.$case ?? 'empty'}, not a full sandbox set; sandboxes it omits are kept`,
      );
    }
    const acks = await applier.apply(message);
    // An ack for a stream that has since broken is useless: the next stream resyncs.
    if (session !== s) return;
    for (const ack of acks) {
      if (!ack.ok)
        warn(
          `sandbox ${ack.sandboxId} policy version ${ack.version} not applied: ${ack.error ?? ''}`,
        );
      send(s, { payload: { $case: 'policyAck', value: ack } });
    }
    if (!s.synced) {
      s.synced = true;
      s.syncedAt = now();
      if (lastFailure !== '') warn(`reconnected to the gateway at ${options.address}`);
      lastFailure = '';
      sendHealth(s);
      drainEvents(s);
    }
  }

  function end(s: Session, error: ServiceError | null): void {
    if (session !== s) return;
    session = null;
    s.call.removeAllListeners('data');
    // After a clean end the call may still be open for writing; the 'error' listener stays
    // attached, so the CANCELLED this causes is absorbed.
    s.call.cancel();
    if (closed) return;
    // Only a session that stayed up a while resets the backoff: a gateway that accepts and
    // drops at once must not be redialled ten times a second.
    if (s.synced && now() - s.syncedAt >= BACKOFF_MAX_MS) failures = 0;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** failures);
    failures += 1;
    const why = error ? describe(error) : 'the gateway ended the stream';
    // One line per change of cause, not one per retry: a long outage must not flood the log.
    if (why !== lastFailure) {
      warn(
        `gateway control stream to ${options.address}: ${why}; retrying (backoff up to ${BACKOFF_MAX_MS} ms), enforcing the last applied policies meanwhile`,
      );
      lastFailure = why;
    }
    cancelRetry = schedule(start, delay);
  }

  function start(): void {
    cancelRetry = null;
    if (closed) return;
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${options.token}`);
    const call = client.control(metadata);
    const s: Session = { call, synced: false, syncedAt: 0, writable: true };
    session = s;
    call.on('data', (message: ControlResponse) => {
      applying = applying
        .then(() => handle(s, message))
        .catch((error: unknown) => {
          // setSandbox reports failures as acks; reaching here is a bug, and the stream's
          // state is then unknown, so start over with a fresh full set.
          warn(`applying a gateway message failed: ${String(error)}`);
          call.cancel();
        });
    });
    call.on('drain', () => {
      s.writable = true;
      drainEvents(s);
    });
    call.on('error', (error: ServiceError) => end(s, error));
    call.on('end', () => end(s, null));
    send(s, {
      payload: {
        $case: 'hello',
        value: { proxyVersion, listenAddress: options.listenAddress },
      },
    });
  }

  const removeListener = proxy.onDecision(function forwardDecision(event) {
    const wire = toProtoDecision(event, event.sandbox ? applier.summary(event.sandbox) : undefined);
    const s = session;
    if (s?.synced && s.writable && events.size === 0) {
      send(s, { payload: { $case: 'decision', value: wire } });
    } else {
      events.push(wire);
    }
  });

  start();
  cancelHealth = schedule(healthTick, healthIntervalMs);

  return {
    async close() {
      if (closed) return;
      closed = true;
      removeListener();
      cancelRetry?.();
      cancelHealth?.();
      const s = session;
      session = null;
      s?.call.cancel();
      // Let an apply in progress finish: a half-applied set is not a state worth leaving.
      await applying;
      client.close();
    },
    connected: () => session?.synced === true,
    get eventsDropped() {
      return events.dropped;
    },
  };
}
