import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the local gateway daemon keeps its state, and how a CLI finds a running one. Shared
 * by the daemon (`openshell-gateway`) and the CLI (`gateway start|stop|status|logs`, auto-start),
 * so both agree on one layout without a second source of truth.
 */

/** gRPC (mTLS) port of the CLI-facing API (REFERENCE.md: https://127.0.0.1:17670). */
export const DEFAULT_GRPC_PORT = 17670;
/** Hono HTTP port: /healthz, /readyz, /metrics. */
export const DEFAULT_HTTP_PORT = 17671;

export interface DaemonPaths {
  /** Root of all local state (`--state-dir`). */
  readonly root: string;
  /** Written by the daemon once every listener is up; removed on a clean stop. */
  readonly stateFile: string;
  /** The daemon's stdout/stderr (`gateway logs`). */
  readonly logFile: string;
  /** SQLite database (0600) and the key file that encrypts secrets in it. */
  readonly dbFile: string;
  readonly secretKeyFile: string;
  /** CA, server and client certificates and keys (0600 keys). */
  readonly pkiDir: string;
  /** What a CLI needs to talk mTLS to this gateway (copied into its config dir). */
  readonly clientCa: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** The egress proxy's state dir (its CA, persisted policies, decision log). */
  readonly proxyDir: string;
  /** The local compute driver's state dir (leases, workspaces). */
  readonly driverDir: string;
}

/** What the running daemon publishes in `stateFile`. */
export interface DaemonState {
  readonly pid: number;
  readonly version: string;
  /** e.g. `https://127.0.0.1:17670`. */
  readonly grpcEndpoint: string;
  /** e.g. `http://127.0.0.1:17671`. */
  readonly httpEndpoint: string;
  readonly startedAtMs: number;
  readonly driver: string;
  /** Host pid of the egress proxy the daemon started (it outlives a gateway crash). */
  readonly proxyPid?: number;
}

/**
 * `$OPENSHELL_STATE_DIR`, else `/var/lib/openshell` for root (the local driver needs root),
 * else `~/.local/state/openshell`.
 */
export function defaultStateDir(
  env: NodeJS.ProcessEnv = process.env,
  uid: number = process.getuid?.() ?? -1,
): string {
  const fromEnv = env['OPENSHELL_STATE_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return uid === 0 ? '/var/lib/openshell' : join(homedir(), '.local/state/openshell');
}

/** The layout under one state dir. */
export function daemonPaths(stateDir: string): DaemonPaths {
  const root = resolve(stateDir);
  const gateway = join(root, 'gateway');
  const pki = join(gateway, 'pki');
  return {
    root,
    stateFile: join(gateway, 'gateway.json'),
    logFile: join(gateway, 'gateway.log'),
    dbFile: join(gateway, 'state.db'),
    secretKeyFile: join(gateway, 'secret.key'),
    pkiDir: pki,
    clientCa: join(pki, 'ca.pem'),
    clientCert: join(pki, 'client.pem'),
    clientKey: join(pki, 'client.key'),
    proxyDir: join(root, 'proxy'),
    driverDir: join(root, 'sandboxes'),
  };
}

/** The published state, or undefined when there is none or it is unreadable. */
export async function readDaemonState(paths: DaemonPaths): Promise<DaemonState | undefined> {
  try {
    const parsed = JSON.parse(await readFile(paths.stateFile, 'utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const state = parsed as Partial<DaemonState>;
    if (typeof state.pid !== 'number' || typeof state.grpcEndpoint !== 'string') return undefined;
    return state as DaemonState;
  } catch {
    return undefined;
  }
}

/**
 * The daemon's entry point (`node <this> --state-dir DIR ...`). Flags: `--state-dir DIR`,
 * `--port N`, `--http-port N`, `--driver local`, `--resolve HOST:PORT=ADDR:PORT` (repeatable),
 * `--upstream-ca FILE`. It writes `stateFile` when ready and logs to stdout/stderr.
 */
export function gatewayBinPath(): string {
  return fileURLToPath(new URL('../bin.js', import.meta.url));
}
