import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { OpenShellError, isOpenShellError } from '@openshell/policy-schema';
import { OpenShellClient, ServingStatus } from '@openshell/proto';
import {
  DEFAULT_GATEWAY_NAME,
  readActiveGateway,
  readGatewayCredentials,
  readGatewayMetadata,
  resolveConfigDir,
  type GatewayCredentials,
} from '../config/config-dir.js';
import { SILENT_PROGRESS, type Progress } from '../render/progress.js';
import { callUnary } from './call-unary.js';
import { loadDaemonLayout } from './daemon-layout.js';
import { settingsFromEnv, startLocalGateway } from './local-daemon.js';

export interface GatewayConnection {
  readonly client: OpenShellClient;
  /** Gateway name (config dir entry), e.g. `local`. */
  readonly name: string;
  /** e.g. `https://127.0.0.1:17670`. */
  readonly endpoint: string;
  /** Config dir the connection's credentials and last-used sandbox live in. */
  readonly configDir: string;
  /** Closes the channel so the process can exit. */
  close(): void;
}

export interface ConnectOptions {
  /** `-g/--gateway`; default: `active_gateway`, else `local`. */
  readonly gateway?: string | undefined;
  /** `--gateway-endpoint`; overrides the endpoint, credentials still from the named gateway. */
  readonly endpoint?: string | undefined;
  /** Start the local gateway when it does not answer (default true). */
  readonly autoStart?: boolean;
  readonly progress?: Progress;
}

/** Where a command would connect, before any network I/O (`status` shows it when disconnected). */
export interface GatewayTarget {
  readonly name: string;
  readonly endpoint: string;
  readonly configDir: string;
  readonly credentials: GatewayCredentials | undefined;
  readonly stateDir: string | undefined;
  readonly endpointOverridden: boolean;
}

const HEALTH_DEADLINE_MS = 3_000;
const READY_TIMEOUT_MS = 30_000;

/** Resolves gateway name, endpoint and credentials from flags and the config dir. */
export async function resolveGatewayTarget(
  options: Pick<ConnectOptions, 'gateway' | 'endpoint'> = {},
): Promise<GatewayTarget> {
  const configDir = resolveConfigDir();
  const name = options.gateway ?? (await readActiveGateway(configDir));
  const metadata = await readGatewayMetadata(name, configDir);
  let endpoint = options.endpoint ?? metadata?.endpoint;
  if (endpoint === undefined) {
    if (name !== DEFAULT_GATEWAY_NAME) {
      throw new OpenShellError(
        'ERR_USAGE',
        `gateway "${name}" is not configured (no ${configDir}/gateways/${name}/metadata.json); ` +
          `pass --gateway-endpoint URL or use the local gateway (-g local)`,
      );
    }
    endpoint = `https://127.0.0.1:${(await loadDaemonLayout()).DEFAULT_GRPC_PORT}`;
  }
  return {
    name,
    endpoint,
    configDir,
    credentials: await readGatewayCredentials(name, configDir),
    stateDir: metadata?.stateDir,
    endpointOverridden: options.endpoint !== undefined,
  };
}

/** `https://host:port` → grpc target and channel credentials (mTLS); `http://` → plaintext. */
function createClient(endpoint: string, creds: GatewayCredentials | undefined): OpenShellClient {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (cause) {
    throw new OpenShellError(
      'ERR_USAGE',
      `gateway endpoint "${endpoint}" is not a URL; use e.g. https://127.0.0.1:17670`,
      { cause },
    );
  }
  let channel: ChannelCredentials;
  if (url.protocol === 'https:') {
    if (creds === undefined) {
      throw new OpenShellError(
        'ERR_UNAUTHENTICATED',
        `no client certificate for this gateway in the config dir; for the local gateway run 'openshell gateway start'`,
      );
    }
    channel = credentials.createSsl(creds.ca, creds.key, creds.cert);
  } else if (url.protocol === 'http:') {
    channel = credentials.createInsecure();
  } else {
    throw new OpenShellError(
      'ERR_USAGE',
      `gateway endpoint "${endpoint}" must start with https:// (or http:// for a plaintext gateway)`,
    );
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  // TLS SNI may not carry an IP address (RFC 6066; Node warns, DEP0123). The local gateway's
  // certificate names both 127.0.0.1 and localhost (gateway-wire.md), so loopback endpoints
  // verify as `localhost` instead.
  const loopback = url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  const channelOptions =
    loopback && url.protocol === 'https:' ? { 'grpc.ssl_target_name_override': 'localhost' } : {};
  // URL keeps IPv6 hosts bracketed, which is the form grpc targets need too.
  return new OpenShellClient(`${url.hostname}:${port}`, channel, channelOptions);
}

/** Health until SERVING; NOT_SERVING (store migrating, proxy not connected) is waited out. */
async function awaitServing(
  client: OpenShellClient,
  endpoint: string,
  progress: Progress,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (let attempt = 0; ; attempt += 1) {
    const health = await callUnary(
      client.health.bind(client),
      {},
      {
        deadlineMs: HEALTH_DEADLINE_MS,
      },
    ).catch((err: unknown) => {
      const error = isOpenShellError(err) ? err : undefined;
      if (error?.code === 'ERR_WAIT_TIMEOUT' || error?.code === 'ERR_INTERNAL') {
        throw new OpenShellError(
          'ERR_GATEWAY_UNAVAILABLE',
          `cannot reach the gateway at ${endpoint}: ${error.message}`,
          { cause: err },
        );
      }
      throw err;
    });
    if (health.status === ServingStatus.SERVING_STATUS_SERVING) return;
    if (Date.now() > deadline) {
      throw new OpenShellError(
        'ERR_GATEWAY_UNAVAILABLE',
        `the gateway at ${endpoint} is up but not serving after ${READY_TIMEOUT_MS / 1000} s; see 'openshell gateway logs'`,
      );
    }
    if (attempt === 0) progress.step('Waiting for the gateway to become ready');
    // No watch exists for health; a short fixed back-off is enough for a one-off wait.
    await new Promise((r) => setTimeout(r, 250));
  }
}

function toConnection(target: GatewayTarget, endpoint: string, client: OpenShellClient) {
  return {
    client,
    name: target.name,
    endpoint,
    configDir: target.configDir,
    close: () => client.close(),
  } satisfies GatewayConnection;
}

/**
 * Connects to the selected gateway over mTLS and checks it answers Health. When it is the
 * `local` gateway and it does not answer, the local daemon is started first (DESIGN §5: a
 * fresh install's first command just works); any other unreachable gateway is an
 * ERR_GATEWAY_UNAVAILABLE that says how to fix it.
 *
 * @example
 * const conn = await connectGateway({ gateway: flags.gateway, endpoint: flags['gateway-endpoint'] });
 * try { ... } finally { conn.close(); }
 */
export async function connectGateway(options: ConnectOptions = {}): Promise<GatewayConnection> {
  const progress = options.progress ?? SILENT_PROGRESS;
  const target = await resolveGatewayTarget(options);
  let firstError: OpenShellError | undefined;
  if (target.credentials !== undefined || !target.endpoint.startsWith('https:')) {
    const client = createClient(target.endpoint, target.credentials);
    try {
      await awaitServing(client, target.endpoint, progress);
      progress.stop();
      return toConnection(target, target.endpoint, client);
    } catch (err) {
      client.close();
      if (!isOpenShellError(err) || err.code !== 'ERR_GATEWAY_UNAVAILABLE') throw err;
      firstError = err;
    }
  }
  const canAutoStart =
    options.autoStart !== false &&
    target.name === DEFAULT_GATEWAY_NAME &&
    !target.endpointOverridden;
  if (!canAutoStart) {
    throw (
      firstError ??
      new OpenShellError(
        'ERR_UNAUTHENTICATED',
        `no client credentials for gateway "${target.name}" in ${target.configDir}/gateways/${target.name}; ` +
          (target.name === DEFAULT_GATEWAY_NAME
            ? `run 'openshell gateway start' to create them`
            : `copy the gateway's ca.pem, client.pem and client.key there`),
      )
    );
  }
  const started = await startLocalGateway(await settingsFromEnv(process.env, target.stateDir), {
    progress,
    configDir: target.configDir,
  });
  const creds = await readGatewayCredentials(target.name, target.configDir);
  const endpoint = started.state.grpcEndpoint;
  const client = createClient(endpoint, creds);
  try {
    await awaitServing(client, endpoint, progress);
  } catch (err) {
    client.close();
    throw err;
  }
  progress.stop();
  return toConnection(target, endpoint, client);
}
