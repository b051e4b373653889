import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { CallerIdentity } from './caller/caller-resolver.js';
import type { DecisionRecorder } from './events/decision-recorder.js';
import type { Metrics } from './events/metrics.js';
import type { SandboxRegistry } from './sandbox/sandbox-registry.js';
import type { DestinationDeps } from './ssrf/resolve-destination.js';
import type { InferenceClient } from './inference/handle-inference.js';
import type { InferenceRouter } from './inference/inference-router.js';
import type { LeafCertificates } from './tls/leaf-certificates.js';
import type { TunnelRegistry } from './tunnel-registry.js';
import type { UpstreamConnector } from './upstream/connect-upstream.js';
import type { ForwardAgent, TunnelAgent } from './upstream/upstream-agents.js';

/** Limits and timeouts after defaults are applied. */
export interface ProxyLimits {
  readonly maxTunnelsPerSandbox: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxBodyRewriteBytes: number;
  readonly maxInferenceBodyBytes: number;
}

/** One accepted client TCP connection. Identity is resolved once, at accept time. */
export interface ClientConnection {
  readonly sandboxId: string | undefined;
  readonly caller: Promise<CallerIdentity | null>;
}

/** The HTTP connection inside an intercepted CONNECT tunnel (TLS terminated or plain). */
export interface InterceptedConnection {
  readonly sandboxId: string;
  readonly caller: CallerIdentity;
  /** The CONNECT authority: every request inside must address exactly this. */
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** The SNI the client sent when it differs from the CONNECT host (every request is then refused). */
  sniMismatch: string | null;
  readonly agent: TunnelAgent;
  /** A fresh upstream connection (TLS when the tunnel is TLS) for a WebSocket upgrade. */
  readonly dialUpstream: () => Promise<Duplex>;
}

/** Everything the request handlers share; built once by createProxy. */
export interface ProxyContext {
  readonly limits: ProxyLimits;
  readonly registry: SandboxRegistry;
  readonly tunnels: TunnelRegistry;
  readonly recorder: DecisionRecorder;
  readonly metrics: Metrics;
  readonly destinations: DestinationDeps;
  readonly leaves: LeafCertificates;
  readonly upstreamSecureContext: SecureContext;
  /** Opens admitted connections: to the validated addresses, or through the upstream proxy. */
  readonly connectUpstream: UpstreamConnector;
  /** Forward-form requests to validated addresses. */
  readonly forwardAgent: ForwardAgent;
  /** Forward-form requests by name through the upstream proxy (fails closed without one). */
  readonly forwardByNameAgent: ForwardAgent;
  /** Parses HTTP inside intercepted tunnels; its sockets are registered with `intercepted`. */
  readonly innerServer: Server;
  readonly clients: WeakMap<Socket | Duplex, ClientConnection>;
  readonly intercepted: WeakMap<Socket | Duplex, InterceptedConnection>;
  /** Routes and pools of the inference router (inference.local). */
  readonly inference: InferenceRouter;
  /** Parses HTTP inside inference.local tunnels; its sockets are registered with `inferenceClients`. */
  readonly inferenceServer: Server;
  readonly inferenceClients: WeakMap<Socket | Duplex, InferenceClient>;
  /** Operational diagnostics (stderr in the bin). */
  readonly warn: (message: string) => void;
}
