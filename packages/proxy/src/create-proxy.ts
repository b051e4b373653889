import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createSecureContext } from 'node:tls';
import type { CallerResolver } from './caller/caller-resolver.js';
import { createProcCallerResolver } from './caller/create-proc-caller-resolver.js';
import type { DecisionSink } from './events/decision-event.js';
import { createDecisionRecorder } from './events/decision-recorder.js';
import { createJsonlLog, type JsonlLog } from './events/jsonl-log.js';
import { createMetrics } from './events/metrics.js';
import { handleConnect } from './handle-connect.js';
import { handleRequest } from './handle-request.js';
import { handleUpgrade } from './handle-upgrade.js';
import { serveInferenceServerRequest } from './inference/handle-inference.js';
import { createInferenceRouter } from './inference/inference-router.js';
import type { InferenceRoute } from './inference/inference-routes.js';
import { badRequest, toRawResponse } from './http/denial-bodies.js';
import type { ClientConnection, ProxyContext, ProxyLimits } from './proxy-context.js';
import { createPolicyStore } from './sandbox/policy-store.js';
import { createSandboxControl, type PolicyAck } from './sandbox/sandbox-control.js';
import { createSandboxRegistry, type SandboxConfig } from './sandbox/sandbox-registry.js';
import { lookupHost, type HostResolver } from './ssrf/resolve-destination.js';
import {
  createOverrideTable,
  parseResolveOverride,
  type ResolveOverride,
} from './ssrf/resolve-overrides.js';
import { loadOrCreateCertificateAuthority } from './tls/certificate-authority.js';
import { createLeafCertificates } from './tls/leaf-certificates.js';
import { readSystemRoots } from './tls/system-roots.js';
import { createTunnelRegistry } from './tunnel-registry.js';
import {
  createChainedConnector,
  createDirectConnector,
  parseUpstreamProxyUrl,
  type UpstreamProxy,
} from './upstream/connect-upstream.js';
import { dialTcp, type Dialer } from './upstream/dial.js';
import { ForwardAgent } from './upstream/upstream-agents.js';

export interface ProxyOptions {
  /** Listener address; default 127.0.0.1 and an ephemeral port. */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** CA key and certificate, persisted policies. Created if missing. */
  readonly stateDir: string;
  /** Operator overrides `host:port=addr:port` (trusted: exempt from the SSRF checks). */
  readonly resolveOverrides?: readonly (ResolveOverride | string)[];
  /** Extra CA (PEM) trusted for upstream TLS, besides the system roots. */
  readonly upstreamCaPem?: string;
  /** JSON-lines decision log with size-based rotation. */
  readonly log?: { readonly path: string; readonly maxBytes?: number; readonly keep?: number };
  /** Concurrent CONNECT tunnels per sandbox before 503. Default 1024. */
  readonly maxTunnelsPerSandbox?: number;
  /** Time to receive a complete request head. Default 30 s. */
  readonly headersTimeoutMs?: number;
  /** Idle time after which tunnels and upstream exchanges are closed. Default 5 min. */
  readonly idleTimeoutMs?: number;
  /** Idle time between requests on a kept-alive client connection. Default 60 s. */
  readonly keepAliveTimeoutMs?: number;
  /** Upstream TCP connect timeout. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Largest request head accepted (431 beyond). Default 16 KiB. */
  readonly maxHeaderBytes?: number;
  /** Largest body buffered for credential rewriting (413 beyond). Default 256 KiB. */
  readonly maxBodyRewriteBytes?: number;
  /**
   * Operator's HTTP proxy (`http://host:port`, or parsed) that admitted connections are
   * chained through with CONNECT by name, after our decision and the name's SSRF checks.
   */
  readonly upstreamProxy?: string | UpstreamProxy;
  /** Largest request body inference.local accepts (buffered to scan and rewrite). Default 32 MiB. */
  readonly maxInferenceBodyBytes?: number;
  /** Time budget per request for custom sensitivity patterns (then they count as matched). Default 250 ms. */
  readonly sensitivityPatternTimeoutMs?: number;
}

/** Collaborators, injectable so tests and the gateway can supply their own. */
export interface ProxyDeps {
  readonly resolveHost?: HostResolver;
  readonly dial?: Dialer;
  readonly callerResolver?: CallerResolver;
  readonly eventSink?: DecisionSink;
  readonly onAck?: (ack: PolicyAck) => void;
  readonly now?: () => Date;
  readonly warn?: (message: string) => void;
  /** PEM text of the system roots (default: the host's bundle). */
  readonly systemRootsPem?: string;
}

export interface Proxy {
  readonly address: { readonly host: string; readonly port: number };
  /** System roots + the proxy CA: give it to the sandbox (SSL_CERT_FILE, CURL_CA_BUNDLE, …). */
  readonly caBundlePath: string;
  /** The proxy CA alone (NODE_EXTRA_CA_CERTS). */
  readonly caCertPath: string;
  readonly caCertPem: string;
  /** Acks of the policies restored from the state dir at start. */
  readonly restored: readonly PolicyAck[];
  /** Applies a sandbox's policy (hot reload); resolves with the ack, also given to `deps.onAck`. */
  setSandbox(config: SandboxConfig): Promise<PolicyAck>;
  /**
   * Replaces the inference routes (the gateway's full set). Throws ERR_USAGE naming the
   * bad route and keeps the previous set. Keys stay in memory only; the next request uses them.
   */
  setInferenceRoutes(routes: readonly InferenceRoute[]): void;
  /** Forgets a sandbox and closes its tunnels; false if it was unknown. */
  removeSandbox(id: string): Promise<boolean>;
  /** Prometheus text exposition of the proxy's counters. */
  metrics(): string;
  /**
   * Adds a decision listener besides `deps.eventSink` (the gateway control stream attaches
   * after start-up); returns its removal. A throwing listener is ignored like the sink.
   */
  onDecision(listener: DecisionSink): () => void;
  /** Counts for the gateway's health report. */
  stats(): ProxyStats;
  close(): Promise<void>;
}

export interface ProxyStats {
  readonly sandboxes: number;
  readonly openTunnels: number;
  /** Decisions taken since start. */
  readonly decisionsTotal: number;
}

const DEFAULTS = {
  maxTunnelsPerSandbox: 1024,
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  keepAliveTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  maxHeaderBytes: 16 * 1024,
  maxBodyRewriteBytes: 256 * 1024,
  maxInferenceBodyBytes: 32 * 1024 * 1024,
  sensitivityPatternTimeoutMs: 250,
} as const;

function clientErrorStatus(code: unknown): { status: number; reason: string } {
  if (code === 'HPE_HEADER_OVERFLOW')
    return { status: 431, reason: 'Request Header Fields Too Large' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, reason: 'Request Timeout' };
  return { status: 400, reason: 'Bad Request' };
}

/**
 * Starts the egress proxy: CONNECT and absolute-form HTTP on one listener, per-sandbox
 * policies from policy-schema, TLS interception where L7 rules or credentials need it.
 * Node's llhttp parses request heads (strict: conflicting Content-Length/Transfer-Encoding,
 * bare LF and oversize heads are refused), and every request is handed to us one by one, so
 * each request on a kept-alive connection gets its own decision.
 *
 * @example
 * const proxy = await createProxy({ stateDir: '/var/lib/openshell/proxy', listen: { port: 3128 } }, {});
 * await proxy.setSandbox({ id: 'demo', sourceAddresses: ['10.200.0.2'], policy, version: 1 });
 */
export async function createProxy(options: ProxyOptions, deps: ProxyDeps = {}): Promise<Proxy> {
  const warn =
    deps.warn ?? ((message: string) => process.stderr.write(`openshell-proxy: ${message}\n`));
  const limits: ProxyLimits = {
    maxTunnelsPerSandbox: options.maxTunnelsPerSandbox ?? DEFAULTS.maxTunnelsPerSandbox,
    headersTimeoutMs: options.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    maxBodyRewriteBytes: options.maxBodyRewriteBytes ?? DEFAULTS.maxBodyRewriteBytes,
    maxInferenceBodyBytes: options.maxInferenceBodyBytes ?? DEFAULTS.maxInferenceBodyBytes,
  };
  // Parsed before anything is created, so a bad URL fails start-up without side effects.
  const upstreamProxy =
    typeof options.upstreamProxy === 'string'
      ? parseUpstreamProxyUrl(options.upstreamProxy)
      : options.upstreamProxy;
  const overrides = (options.resolveOverrides ?? []).map((o) =>
    typeof o === 'string' ? parseResolveOverride(o) : o,
  );
  const systemRoots = deps.systemRootsPem ?? readSystemRoots();
  const ca = await loadOrCreateCertificateAuthority(options.stateDir, systemRoots);
  const metrics = createMetrics();
  const log: JsonlLog | undefined = options.log
    ? createJsonlLog(options.log, (error) =>
        warn(`cannot write the decision log ${options.log?.path ?? ''}: ${String(error)}`),
      )
    : undefined;
  const listeners = new Set<DecisionSink>(deps.eventSink ? [deps.eventSink] : []);
  let decisionsTotal = 0;
  const recorder = createDecisionRecorder({
    metrics,
    now: deps.now ?? (() => new Date()),
    ...(log ? { log } : {}),
    sink: function fanOutDecision(event) {
      decisionsTotal += 1;
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // Same contract as the sink: a listener's failure must not turn a decision into a crash.
        }
      }
    },
  });
  const registry = createSandboxRegistry();
  const tunnels = createTunnelRegistry((sandbox, count) =>
    metrics.set('openshell_proxy_tunnels_active', { sandbox }, count),
  );
  const dial = deps.dial ?? dialTcp;
  const connectUpstream = upstreamProxy
    ? createChainedConnector(upstreamProxy, dial, limits.connectTimeoutMs)
    : createDirectConnector(dial, limits.connectTimeoutMs);
  const callerResolver = deps.callerResolver ?? createProcCallerResolver({ warn });
  const serverOptions = {
    maxHeaderSize: options.maxHeaderBytes ?? DEFAULTS.maxHeaderBytes,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs,
    // Absolute-form requests carry their authority in the URL; Host is checked where it matters.
    requireHostHeader: false,
    noDelay: true,
  };
  const innerServer = createServer(serverOptions);
  const inferenceServer = createServer(serverOptions);
  // Tunnelled connections are not tracked by the listener's header timer: inactivity closes them.
  innerServer.timeout = limits.idleTimeoutMs;
  inferenceServer.timeout = limits.idleTimeoutMs;
  const upstreamSecureContext = createSecureContext({
    ca: options.upstreamCaPem ? [systemRoots, options.upstreamCaPem] : systemRoots,
  });
  const ctx: ProxyContext = {
    limits,
    registry,
    tunnels,
    recorder,
    metrics,
    destinations: {
      resolveHost: deps.resolveHost ?? lookupHost,
      overrides: createOverrideTable(overrides),
      upstreamResolves: upstreamProxy !== undefined,
    },
    leaves: createLeafCertificates(ca),
    upstreamSecureContext,
    connectUpstream,
    forwardAgent: new ForwardAgent(connectUpstream, false),
    forwardByNameAgent: new ForwardAgent(connectUpstream, true),
    innerServer,
    clients: new WeakMap(),
    intercepted: new WeakMap(),
    inference: createInferenceRouter({
      secureContext: upstreamSecureContext,
      patternTimeoutMs: options.sensitivityPatternTimeoutMs ?? DEFAULTS.sensitivityPatternTimeoutMs,
    }),
    inferenceServer,
    inferenceClients: new WeakMap(),
    warn,
  };
  const control = createSandboxControl({
    registry,
    tunnels,
    store: createPolicyStore(options.stateDir),
    recorder,
    metrics,
    onAck: deps.onAck ?? (() => undefined),
    warn,
  });
  const restored = await control.restore();

  const server: Server = createServer({
    ...serverOptions,
    headersTimeout: limits.headersTimeoutMs,
    // Long uploads are bounded by idleness, not by total duration.
    requestTimeout: 0,
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)),
    ),
  });
  server.on('connection', function onConnection(socket: Socket) {
    metrics.inc('openshell_proxy_connections_total');
    const sandbox = registry.forAddress(socket.remoteAddress ?? '');
    const caller =
      sandbox &&
      socket.remoteAddress &&
      socket.localAddress &&
      socket.remotePort &&
      socket.localPort
        ? callerResolver
            .resolve({
              sandboxId: sandbox.id,
              remoteAddress: socket.remoteAddress,
              remotePort: socket.remotePort,
              localAddress: socket.localAddress,
              localPort: socket.localPort,
              ...(sandbox.netnsPid === undefined ? {} : { netnsPid: sandbox.netnsPid }),
            })
            // A resolver failure is "unknown caller", which denies.
            .catch(() => null)
        : Promise.resolve(null);
    const client: ClientConnection = { sandboxId: sandbox?.id, caller };
    ctx.clients.set(socket, client);
  });
  for (const s of [server, innerServer]) {
    s.on('request', (req, res) => handleRequest(ctx, req, res));
    s.on('upgrade', (req, socket: Duplex, head: Buffer) => handleUpgrade(ctx, req, socket, head));
  }
  inferenceServer.on('request', (req, res) => serveInferenceServerRequest(ctx, req, res));
  inferenceServer.on('upgrade', (_req, socket: Duplex) => {
    socket.end(toRawResponse(badRequest('inference.local does not accept protocol upgrades')));
  });
  for (const s of [server, innerServer, inferenceServer]) {
    s.on('clientError', function onClientError(error: NodeJS.ErrnoException, socket: Duplex) {
      if (error.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      metrics.inc('openshell_proxy_bad_requests_total');
      const { status, reason } = clientErrorStatus(error.code);
      socket.end(
        toRawResponse(
          badRequest(`malformed request (${error.code ?? 'parse error'})`, status, reason),
        ),
      );
    });
  }
  server.on('connect', (req, socket: Duplex, head: Buffer) =>
    handleConnect(ctx, req, socket, head),
  );
  for (const s of [innerServer, inferenceServer]) {
    s.on('connect', (_req, socket: Duplex) => {
      socket.end(toRawResponse(badRequest('CONNECT inside a tunnel is not supported')));
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue: a burst of sandbox connections must queue, not be reset.
    server.listen(
      { port: options.listen?.port ?? 0, host: options.listen?.host ?? '127.0.0.1', backlog: 4096 },
      () => {
        server.off('error', reject);
        resolve();
      },
    );
  });
  const bound = server.address() as AddressInfo;

  return {
    address: { host: bound.address, port: bound.port },
    caBundlePath: ca.bundlePath,
    caCertPath: ca.certPath,
    caCertPem: ca.certPem,
    restored,
    setSandbox: (config) => control.setSandbox(config),
    setInferenceRoutes: (routes) => ctx.inference.setRoutes(routes),
    removeSandbox: (id) => control.removeSandbox(id),
    metrics() {
      metrics.set('openshell_proxy_leaf_certificates', {}, ctx.leaves.size);
      return metrics.render();
    },
    onDecision(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stats: () => ({
      sandboxes: registry.all().length,
      openTunnels: tunnels.all().length,
      decisionsTotal,
    }),
    async close() {
      for (const tunnel of tunnels.all()) tunnel.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      innerServer.closeAllConnections();
      inferenceServer.closeAllConnections();
      ctx.inference.destroy();
      // Only the resolver made here is ours to stop.
      if (!deps.callerResolver) callerResolver.close?.();
      ctx.forwardAgent.destroy();
      ctx.forwardByNameAgent.destroy();
      await closed;
      log?.close();
    },
  };
}
