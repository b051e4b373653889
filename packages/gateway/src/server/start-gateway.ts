import { Server, ServerCredentials } from '@grpc/grpc-js';
import { Action, OpenShellService, ProxyControlService, SupervisorService } from '@openshell/proto';
import type { ComputeDriver } from '../drivers/compute-driver.js';
import type { GatewayPki } from '../pki/gateway-pki.js';
import type { AgentInstall } from '../runtime/start-sandbox-runtime.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { createEventHub } from './event-hub.js';
import { startHttpServer, type HttpServer } from './http-server.js';
import { createOpenShellService, proxyRoutes } from './openshell-service.js';
import { createPolicyRevisions } from './policy-revisions.js';
import { createProxyHub } from './proxy-hub.js';
import { createSandboxLifecycle } from './sandbox-lifecycle.js';
import { createSessionRelays } from './session-relays.js';
import { createSupervisorHub, type SupervisorHub } from './supervisor-hub.js';

export interface GatewayOptions {
  readonly version: string;
  readonly store: GatewayStore;
  readonly driver: ComputeDriver;
  readonly pki: GatewayPki;
  /** CLI API (mTLS). Port 0 = any free port. */
  readonly api: { readonly host: string; readonly port: number };
  /** Health, readiness and metrics over plain HTTP on loopback. Port 0 = any. */
  readonly http: { readonly host: string; readonly port: number };
  /**
   * Address sandboxes and the proxy dial: the supervisor and proxy-control endpoint listens
   * here (server TLS; callers authenticate with tokens), and the proxy listens on proxyPort.
   */
  readonly serviceAddress: string;
  readonly supervisorPort: number;
  readonly proxyPort: number;
  /** Bearer token the proxy presents on the control stream. */
  readonly proxyToken: string;
  readonly agent: AgentInstall;
  readonly sandboxCaBundle?: { readonly dir: string; readonly file: string };
  readonly now?: () => number;
  readonly log?: (message: string) => void;
  /** Event retention; default 7 days and 100,000 events. */
  readonly retention?: { readonly maxAgeMs: number; readonly maxCount: number };
}

export interface Gateway {
  readonly apiPort: number;
  readonly httpPort: number;
  readonly supervisorPort: number;
  /** Whether the egress proxy's control stream is up (it dials in after start). */
  proxyConnected(): boolean;
  /** Stops serving; sandboxes and the proxy keep running (a new gateway reattaches). */
  close(): Promise<void>;
}

function bind(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) =>
      error ? reject(error) : resolve(port),
    );
  });
}

/**
 * Composes the gateway: store, compute driver, supervisor hub (agents), proxy hub (the egress
 * proxy's control stream), lifecycle and policy revisions, the mTLS CLI API and the HTTP
 * health endpoints. Reattaches to sandboxes that outlived a previous gateway before serving.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const now = options.now ?? Date.now;
  const log = options.log ?? ((message: string) => process.stderr.write(`gateway: ${message}\n`));
  const store = options.store;
  const events = createEventHub({ store, log });
  const hub: { supervisor?: SupervisorHub } = {};
  const supervisorRef = (): SupervisorHub => {
    if (hub.supervisor === undefined) throw new Error('supervisor hub used before start');
    return hub.supervisor;
  };
  // The lifecycle needs the proxy hub and the hub needs the lifecycle's full set: the hub's
  // callbacks are late-bound through this holder.
  const late: {
    lifecycle?: ReturnType<typeof createSandboxLifecycle>;
    acks?: ReturnType<typeof createPolicyRevisions>;
  } = {};
  const proxyHub = createProxyHub(options.proxyToken, {
    fullSet: () => late.lifecycle?.fullProxySet() ?? Promise.resolve([]),
    routes: () => proxyRoutes(store),
    ack: (ack) => {
      void late.acks
        ?.onAck('proxy', ack)
        .catch((error: unknown) => log(`proxy ack: ${String(error)}`));
    },
    decision: (event) => {
      const action =
        event.action === Action.ACTION_ALLOW
          ? 'allowed'
          : event.action === Action.ACTION_AUDIT
            ? 'audited'
            : 'denied';
      late.lifecycle?.countDecision(event.sandboxId, action);
      events.decision(event);
    },
    connected: (up) => log(up ? 'egress proxy connected' : 'egress proxy disconnected'),
    log,
  });
  const lifecycle = createSandboxLifecycle(
    {
      serviceAddress: options.serviceAddress,
      proxyPort: options.proxyPort,
      supervisorPort: options.supervisorPort,
      gatewayCaDir: options.pki.caDir,
      ...(options.sandboxCaBundle === undefined
        ? {}
        : { sandboxCaBundle: options.sandboxCaBundle }),
      agent: options.agent,
      now,
      log,
    },
    { store, driver: options.driver, events, proxy: proxyHub, supervisor: supervisorRef },
  );
  const policies = createPolicyRevisions({ store, lifecycle, now });
  late.lifecycle = lifecycle;
  late.acks = policies;
  const supervisor = createSupervisorHub({
    sandboxForToken: async (hash) =>
      (await store.listSandboxes()).find((record) => record.tokenSha256 === hash)?.id,
    answerHello: (id, hello) => lifecycle.answerHello(id, hello),
    ack: (id, ack) => {
      void policies
        .onAck('agent', { ...ack, sandboxId: id })
        .catch((error: unknown) => log(`agent ack: ${String(error)}`));
    },
    mainExited: (id, exit) => {
      void lifecycle
        .mainExited(id, exit)
        .catch((error: unknown) => log(`main exit: ${String(error)}`));
    },
    connected: (id, up) => log(`agent of sandbox ${id} ${up ? 'connected' : 'disconnected'}`),
    log,
  });
  hub.supervisor = supervisor;
  const relays = createSessionRelays({ lifecycle, supervisor: supervisorRef });
  const startedAtMs = now();
  const service = createOpenShellService({
    info: { version: options.version, startedAtMs, driver: options.driver.name },
    store,
    lifecycle,
    policies,
    relays,
    proxy: proxyHub,
    events,
    now,
    log,
    routesChanged: async () => {
      proxyHub.setRoutes(await proxyRoutes(store));
    },
  });

  await lifecycle.reattach();

  const pki = options.pki;
  const internal = new Server();
  internal.addService(SupervisorService, supervisor.service);
  internal.addService(ProxyControlService, proxyHub.service);
  const api = new Server();
  api.addService(OpenShellService, service);
  const servers = [internal, api];
  let http: HttpServer | undefined;
  const retention = options.retention ?? { maxAgeMs: 7 * 24 * 3600_000, maxCount: 100_000 };
  const prune = setInterval(() => {
    store
      .pruneEvents(retention, now())
      .catch((error: unknown) => log(`pruning events: ${String(error)}`));
  }, 10 * 60_000);
  prune.unref();
  try {
    const supervisorPort = await bind(
      internal,
      `${options.serviceAddress}:${String(options.supervisorPort)}`,
      ServerCredentials.createSsl(
        null,
        [
          {
            cert_chain: Buffer.from(pki.serverCertPem),
            private_key: Buffer.from(pki.serverKeyPem),
          },
        ],
        false,
      ),
    );
    const apiPort = await bind(
      api,
      `${options.api.host}:${String(options.api.port)}`,
      // checkClientCertificate: only holders of a client certificate from this CA get in.
      ServerCredentials.createSsl(
        Buffer.from(pki.caPem),
        [
          {
            cert_chain: Buffer.from(pki.serverCertPem),
            private_key: Buffer.from(pki.serverKeyPem),
          },
        ],
        true,
      ),
    );
    http = await startHttpServer({
      host: options.http.host,
      port: options.http.port,
      store,
      proxyConnected: () => proxyHub.isConnected(),
      version: options.version,
    });
    const httpServer = http;
    await store.pruneEvents(retention, now()).catch(() => 0);
    return {
      apiPort,
      httpPort: httpServer.port,
      supervisorPort,
      proxyConnected: () => proxyHub.isConnected(),
      async close() {
        clearInterval(prune);
        supervisor.closeAll();
        proxyHub.closeAll();
        for (const server of servers) server.forceShutdown();
        await httpServer.close();
        await events.flush();
      },
    };
  } catch (error) {
    clearInterval(prune);
    for (const server of servers) server.forceShutdown();
    await http?.close();
    throw error;
  }
}
