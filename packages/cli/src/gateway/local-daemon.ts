import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OpenShellError } from '@openshell/policy-schema';
import {
  DEFAULT_GATEWAY_NAME,
  readActiveGateway,
  resolveConfigDir,
  writeActiveGateway,
  writeGatewayCredentials,
  writeGatewayMetadata,
} from '../config/config-dir.js';
import { SILENT_PROGRESS, type Progress } from '../render/progress.js';
import { loadDaemonLayout, type DaemonPaths, type DaemonState } from './daemon-layout.js';
import { readLogTail } from './read-log-tail.js';

/** What `gateway start` passes to the daemon (gateway-wire.md "Local daemon"). */
export interface LocalGatewaySettings {
  readonly stateDir: string;
  readonly port: number;
  readonly httpPort: number;
  readonly driver?: string;
  /** `HOST:PORT=ADDR:PORT` resolve overrides for the proxy. */
  readonly resolve: readonly string[];
  readonly upstreamCa?: string;
}

export interface StartResult {
  readonly state: DaemonState;
  readonly paths: DaemonPaths;
  /** True when a daemon was already running and was only adopted. */
  readonly alreadyRunning: boolean;
}

export interface StartOptions {
  readonly progress?: Progress;
  readonly env?: NodeJS.ProcessEnv;
  readonly configDir?: string;
  /** Make `local` the active gateway even when another one is (explicit `gateway start`). */
  readonly activate?: boolean;
  readonly timeoutMs?: number;
}

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
// The daemon publishes its state file once; a 50 ms poll costs nothing next to its start-up
// and works on every filesystem, unlike fs.watch (inotify misses renames on some overlays).
const POLL_MS = 50;

/** Settings for auto-start, from OPENSHELL_STATE_DIR / OPENSHELL_PROXY_RESOLVE / OPENSHELL_PROXY_UPSTREAM_CA. */
export async function settingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  stateDir?: string,
): Promise<LocalGatewaySettings> {
  const { DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, defaultStateDir } = await loadDaemonLayout();
  const resolveList = (env['OPENSHELL_PROXY_RESOLVE'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const upstreamCa = env['OPENSHELL_PROXY_UPSTREAM_CA'];
  return {
    // An explicit OPENSHELL_STATE_DIR wins over the dir remembered in the config.
    stateDir:
      env['OPENSHELL_STATE_DIR'] !== undefined && env['OPENSHELL_STATE_DIR'] !== ''
        ? defaultStateDir(env)
        : (stateDir ?? defaultStateDir(env)),
    port: portFromEnv(env, 'OPENSHELL_GATEWAY_PORT', DEFAULT_GRPC_PORT),
    httpPort: portFromEnv(env, 'OPENSHELL_GATEWAY_HTTP_PORT', DEFAULT_HTTP_PORT),
    resolve: resolveList,
    ...(upstreamCa !== undefined && upstreamCa !== '' ? { upstreamCa } : {}),
  };
}

/** A port from the environment (auto-start beside another gateway), else the default. */
function portFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new OpenShellError('ERR_USAGE', `${name}=${text}: expected a port number 1–65535`);
  }
  return port;
}

/** True when a process with this pid exists (signal 0 probes without delivering anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (cause) {
    // EPERM: it exists but belongs to someone else — still alive.
    return (cause as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running daemon's state under stateDir, or undefined when none runs (stale file ignored). */
export async function readRunningDaemon(
  stateDir: string,
): Promise<{ state: DaemonState; paths: DaemonPaths } | undefined> {
  const { daemonPaths, readDaemonState } = await loadDaemonLayout();
  const paths = daemonPaths(stateDir);
  const state = await readDaemonState(paths);
  if (state === undefined || !isProcessAlive(state.pid)) return undefined;
  return { state, paths };
}

/** Copies the daemon's client credentials into the config dir and records its endpoint. */
export async function adoptLocalGateway(
  paths: DaemonPaths,
  state: DaemonState,
  options: { configDir?: string; activate?: boolean } = {},
): Promise<void> {
  const configDir = options.configDir ?? resolveConfigDir();
  let creds;
  try {
    const [ca, cert, key] = await Promise.all(
      [paths.clientCa, paths.clientCert, paths.clientKey].map((f) => readFile(f)),
    );
    creds = { ca: ca as Buffer, cert: cert as Buffer, key: key as Buffer };
  } catch (cause) {
    throw new OpenShellError(
      'ERR_GATEWAY_UNAVAILABLE',
      `the local gateway is running but its client credentials in ${paths.pkiDir} cannot be read ` +
        `(${String(cause)}); run openshell as the user that started it, or restart it with 'openshell gateway stop && openshell gateway start'`,
      { cause },
    );
  }
  await writeGatewayCredentials(DEFAULT_GATEWAY_NAME, creds, configDir);
  await writeGatewayMetadata(
    { name: DEFAULT_GATEWAY_NAME, endpoint: state.grpcEndpoint, stateDir: paths.root },
    configDir,
  );
  // Auto-start must not switch a user who chose a remote gateway back to local.
  const active = await readActiveGateway(configDir);
  if (options.activate === true || active === DEFAULT_GATEWAY_NAME) {
    await writeActiveGateway(DEFAULT_GATEWAY_NAME, configDir);
  }
}

/** The daemon's argv after the script path. */
export function buildDaemonArgs(settings: LocalGatewaySettings): string[] {
  const args = [
    '--state-dir',
    settings.stateDir,
    '--port',
    String(settings.port),
    '--http-port',
    String(settings.httpPort),
  ];
  if (settings.driver !== undefined) args.push('--driver', settings.driver);
  for (const r of settings.resolve) args.push('--resolve', r);
  if (settings.upstreamCa !== undefined) args.push('--upstream-ca', settings.upstreamCa);
  return args;
}

/** The daemon script: OPENSHELL_GATEWAY_BIN (tests, custom builds), else the gateway package's. */
export async function resolveDaemonBin(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const override = env['OPENSHELL_GATEWAY_BIN'];
  if (override !== undefined && override !== '') return override;
  return (await loadDaemonLayout()).gatewayBinPath();
}

async function startFailure(paths: DaemonPaths, why: string): Promise<OpenShellError> {
  const tail = await readLogTail(paths.logFile, 20);
  return new OpenShellError(
    'ERR_GATEWAY_UNAVAILABLE',
    `the local gateway ${why}.` +
      (tail === '' ? '' : `\nLast lines of ${paths.logFile}:\n${tail}`) +
      `\nFix the cause above and run 'openshell gateway start' again.`,
  );
}

/**
 * Waits until the daemon publishes its state file with this child's pid (the readiness
 * signal in gateway-wire.md); fails early when the child exits and after the timeout.
 */
async function waitForState(
  child: ChildProcess,
  paths: DaemonPaths,
  timeoutMs: number,
): Promise<DaemonState> {
  const { readDaemonState } = await loadDaemonLayout();
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal === null ? `exited with code ${code ?? '?'}` : `was killed by ${signal}`;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await readDaemonState(paths);
    if (state !== undefined && state.pid === child.pid) return state;
    if (exited !== undefined) throw await startFailure(paths, `${exited} before it was ready`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw await startFailure(paths, `did not become ready within ${timeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * Starts the local gateway daemon detached (its own session, output appended to its log
 * file), waits until it is ready and adopts its credentials. A daemon already running under
 * the state dir is adopted instead of started twice.
 */
export async function startLocalGateway(
  settings: LocalGatewaySettings,
  options: StartOptions = {},
): Promise<StartResult> {
  const progress = options.progress ?? SILENT_PROGRESS;
  const env = options.env ?? process.env;
  const adoptOptions = {
    ...(options.configDir !== undefined ? { configDir: options.configDir } : {}),
    ...(options.activate !== undefined ? { activate: options.activate } : {}),
  };
  const running = await readRunningDaemon(settings.stateDir);
  if (running !== undefined) {
    await adoptLocalGateway(running.paths, running.state, adoptOptions);
    return { ...running, alreadyRunning: true };
  }
  const paths = (await loadDaemonLayout()).daemonPaths(settings.stateDir);
  const bin = await resolveDaemonBin(env);
  await mkdir(dirname(paths.logFile), { recursive: true, mode: 0o700 });
  const log = await open(paths.logFile, 'a', 0o600);
  progress.step(`Starting the local gateway (state in ${paths.root})`);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [bin, ...buildDaemonArgs(settings)], {
      // setsid: the daemon must survive this CLI's terminal closing (SIGHUP to the group).
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env,
    });
  } finally {
    await log.close();
  }
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (cause) =>
      reject(
        new OpenShellError(
          'ERR_GATEWAY_UNAVAILABLE',
          `cannot start the local gateway: ${cause.message}`,
          {
            cause,
          },
        ),
      ),
    );
  });
  spawnError.catch(() => {
    // Raced below; this handler only keeps a lost race from being an unhandled rejection.
  });
  const state = await Promise.race([
    waitForState(child, paths, options.timeoutMs ?? START_TIMEOUT_MS),
    spawnError,
  ]);
  child.unref();
  await adoptLocalGateway(paths, state, adoptOptions);
  progress.done(`Local gateway started (pid ${state.pid}, ${state.grpcEndpoint})`);
  return { state, paths, alreadyRunning: false };
}

/** Stops the daemon under stateDir; undefined when none was running. */
export async function stopLocalGateway(
  stateDir: string,
  progress: Progress = SILENT_PROGRESS,
): Promise<{ pid: number; forced: boolean } | undefined> {
  const running = await readRunningDaemon(stateDir);
  if (running === undefined) return undefined;
  const { pid } = running.state;
  progress.step(`Stopping the local gateway (pid ${pid})`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) {
      // It ignored SIGTERM for 10 s; sandboxes survive a gateway kill (DESIGN §3), so a
      // forced stop loses no workload, only the clean shutdown of listeners.
      process.kill(pid, 'SIGKILL');
      return { pid, forced: true };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return { pid, forced: false };
}
