import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { OpenShellError } from '@openshell/policy-schema';
import type { ComputeDriver } from '../drivers/compute-driver.js';
import { createDockerDriver } from '../drivers/docker/create-docker-driver.js';
import { DEFAULT_DOCKER_HOST } from '../drivers/docker/probe-engine.js';
import { createLocalDriver } from '../drivers/local/create-local-driver.js';
import { loadOrCreatePki } from '../pki/gateway-pki.js';
import type { AgentInstall } from '../runtime/start-sandbox-runtime.js';
import { startGateway } from '../server/start-gateway.js';
import { openSqliteStore } from '../store/open-sqlite-store.js';
import { daemonPaths, type DaemonState } from './daemon-paths.js';
import { startProxyProcess } from './proxy-process.js';

const run = promisify(execFile);

export interface DaemonOptions {
  readonly stateDir: string;
  readonly port: number;
  readonly httpPort: number;
  readonly driver: string;
  readonly resolve: readonly string[];
  readonly upstreamCa?: string;
  /** Host address sandboxes dial for the proxy and the supervisor (put on `lo`). */
  readonly serviceAddress: string;
  readonly addressPool: string;
  readonly supervisorPort: number;
  readonly proxyPort: number;
  readonly uidBase?: number;
  readonly namePrefix?: string;
  readonly cgroupParent?: string;
  /** docker driver: the engine socket (`unix:///run/podman/podman.sock`). */
  readonly dockerHost?: string;
  /** docker driver: image for sandboxes created without `--from`. */
  readonly dockerImage?: string;
}

export interface RunningDaemon {
  readonly state: DaemonState;
  /** Stops the gateway and the proxy; sandboxes keep running for the next start. */
  stop(): Promise<void>;
}

async function packageVersion(): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/**
 * The sandbox-agent as sandboxes run it: the workspace holding the agent package is bound
 * read-only (its pnpm links are relative, so they resolve inside the bind) and the agent's
 * single-file bundle is started from it.
 */
export function defaultAgentInstall(): AgentInstall {
  const agentDist = dirname(fileURLToPath(import.meta.resolve('@openshell/sandbox-agent')));
  const root = join(agentDist, '..', '..', '..');
  return { root, entry: relative(root, join(agentDist, 'agent.bundle.mjs')) };
}

async function ensureToken(path: string): Promise<string> {
  const existing = await readFile(path, 'utf8').catch(() => '');
  if (existing.trim().length >= 32) return existing.trim();
  const token = randomBytes(32).toString('hex');
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return token;
}

/**
 * Starts everything `openshell gateway start` promises: PKI, state store, the egress proxy
 * (adopted when one survived a previous gateway), the local compute driver, the gateway's
 * servers; then publishes the state file the CLI waits for.
 */
export async function runDaemon(
  options: DaemonOptions,
  log: (message: string) => void,
): Promise<RunningDaemon> {
  if (options.driver !== 'local' && options.driver !== 'docker') {
    throw new OpenShellError(
      'ERR_USAGE',
      `--driver ${options.driver} is not a compute driver; use --driver local or --driver docker`,
    );
  }
  if (process.getuid?.() !== 0) {
    throw new OpenShellError(
      'ERR_HOST_UNSUPPORTED',
      'the local driver needs root (network namespaces, nftables, bubblewrap as root, cgroups); run the gateway as root, e.g. with sudo',
    );
  }
  const paths = daemonPaths(options.stateDir);
  const gatewayDir = dirname(paths.stateFile);
  for (const dir of [paths.root, gatewayDir, paths.proxyDir, paths.driverDir]) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
  }
  // The root may be shared (e.g. /var/lib/openshell); only the gateway's own parts are 0700.
  await chmod(paths.root, (await stat(paths.root)).mode & 0o755);
  const version = await packageVersion();
  const pki = await loadOrCreatePki(paths.pkiDir, { serverIps: [options.serviceAddress] });
  await run('ip', ['addr', 'replace', `${options.serviceAddress}/32`, 'dev', 'lo']);
  const proxyToken = await ensureToken(join(gatewayDir, 'proxy.token'));
  const store = await openSqliteStore({ path: paths.dbFile, secretKeyPath: paths.secretKeyFile });
  const proxy = await startProxyProcess({
    stateDir: paths.proxyDir,
    listen: { address: options.serviceAddress, port: options.proxyPort },
    gateway: { address: options.serviceAddress, port: options.supervisorPort },
    gatewayCaFile: paths.clientCa,
    tokenFile: join(gatewayDir, 'proxy.token'),
    resolve: options.resolve,
    ...(options.upstreamCa === undefined ? {} : { upstreamCa: options.upstreamCa }),
    log,
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  // Only the bundle goes into sandboxes: the proxy's tls/ dir also holds the CA's private key.
  const sandboxCaDir = join(gatewayDir, 'sandbox-ca');
  await mkdir(sandboxCaDir, { recursive: true, mode: 0o755 });
  await chmod(sandboxCaDir, 0o755);
  await copyFile(proxy.caBundleFile, join(sandboxCaDir, 'ca-bundle.pem'));
  await chmod(join(sandboxCaDir, 'ca-bundle.pem'), 0o644);
  const layout = {
    addressPool: options.addressPool,
    ...(options.uidBase === undefined ? {} : { uidBase: options.uidBase }),
    ...(options.namePrefix === undefined ? {} : { namePrefix: options.namePrefix }),
  };
  let driver: ComputeDriver;
  if (options.driver === 'docker') {
    const docker = await createDockerDriver({
      ...layout,
      // Its own leases and records: the local driver's sandboxes dir is not shared.
      stateDir: join(paths.root, 'docker-driver'),
      dockerHost: options.dockerHost ?? DEFAULT_DOCKER_HOST,
      ...(options.dockerImage === undefined ? {} : { defaultImage: options.dockerImage }),
    }).catch(async (error: unknown) => {
      await proxy.stop();
      await store.close();
      throw error;
    });
    log(`docker driver: ${docker.engine}`);
    driver = docker;
  } else {
    driver = await createLocalDriver({
      ...layout,
      stateDir: paths.driverDir,
      ...(options.cgroupParent === undefined ? {} : { cgroupParent: options.cgroupParent }),
    });
  }
  const gateway = await startGateway({
    version,
    store,
    driver,
    pki,
    api: { host: '127.0.0.1', port: options.port },
    http: { host: '127.0.0.1', port: options.httpPort },
    serviceAddress: options.serviceAddress,
    supervisorPort: options.supervisorPort,
    proxyPort: options.proxyPort,
    proxyToken,
    agent: defaultAgentInstall(),
    sandboxCaBundle: { dir: sandboxCaDir, file: 'ca-bundle.pem' },
    log,
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  // Published only once the proxy is connected, so a first `openshell status` says so and a
  // first sandbox does not wait on it. A proxy that cannot connect is reported, not fatal:
  // the gateway still serves and says why sandboxes stay Provisioning.
  for (let waited = 0; !gateway.proxyConnected() && waited < 10_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!gateway.proxyConnected()) {
    log(`the egress proxy has not connected yet; see ${join(paths.proxyDir, 'proxy.log')}`);
  }
  const state: DaemonState = {
    pid: process.pid,
    version,
    grpcEndpoint: `https://127.0.0.1:${String(gateway.apiPort)}`,
    httpEndpoint: `http://127.0.0.1:${String(gateway.httpPort)}`,
    startedAtMs: Date.now(),
    driver: driver.name,
    proxyPid: proxy.pid,
  };
  await writeFile(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  log(`listening on ${state.grpcEndpoint} (health ${state.httpEndpoint}/healthz)`);
  return {
    state,
    async stop() {
      await rm(paths.stateFile, { force: true });
      await gateway.close();
      await proxy.stop();
      await store.close();
    },
  };
}
