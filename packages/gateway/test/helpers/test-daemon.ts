// Runs the real gateway daemon (dist/bin.js) as its own process with this test file's own
// addresses, ports, uid range and state dir, plus an mTLS client for its API — so tests can
// SIGKILL and restart it like an operator (or a crash) would.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { OpenShellClient } from '@openshell/proto';
import { daemonPaths, readDaemonState, type DaemonPaths } from '../../src/daemon/daemon-paths.js';
import { pickPort } from '../../src/drivers/local/test-helpers/net-probes.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface DaemonNames {
  /** 1–4 lowercase letters: host object names and the cgroup parent. */
  readonly prefix: string;
  /** Host address sandboxes dial (outside the pool). */
  readonly serviceAddress: string;
  /** The pool sandboxes draw their /30s from. */
  readonly pool: string;
  readonly uidBase: number;
}

export interface TestDaemon {
  readonly paths: DaemonPaths;
  readonly names: DaemonNames;
  readonly ports: {
    readonly api: number;
    readonly http: number;
    readonly supervisor: number;
    readonly proxy: number;
  };
  client(): OpenShellClient;
  /** Promisified unary call with the mTLS client. */
  call<Res>(method: string, request: object): Promise<Res>;
  /** Starts (or restarts) the daemon and waits for its state file. */
  start(): Promise<void>;
  /** Sends a signal to the daemon and waits for it to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** The daemon's log so far (for failure messages). */
  log(): Promise<string>;
  /** Deletes every sandbox, stops daemon and proxy, removes every host object it made. */
  cleanup(): Promise<void>;
}

export interface TestDaemonOptions {
  readonly resolve?: readonly string[];
  readonly upstreamCa?: string;
}

/** Prepares (does not start) a daemon with its own state dir and free ports. */
export async function createTestDaemon(
  names: DaemonNames,
  options: TestDaemonOptions = {},
): Promise<TestDaemon> {
  const stateDir = await mkdtemp(`/var/tmp/openshell-gw-${names.prefix}-`);
  const paths = daemonPaths(stateDir);
  const ports = {
    api: await pickPort(),
    http: await pickPort(),
    supervisor: await pickPort(),
    proxy: await pickPort(),
  };
  let child: ChildProcess | undefined;
  let client: OpenShellClient | undefined;
  let output = '';

  async function connect(): Promise<OpenShellClient> {
    client?.close();
    const [ca, key, cert] = await Promise.all([
      readFile(paths.clientCa),
      readFile(paths.clientKey),
      readFile(paths.clientCert),
    ]);
    client = new OpenShellClient(
      `127.0.0.1:${String(ports.api)}`,
      credentials.createSsl(ca, key, cert),
    );
    return client;
  }

  const daemon: TestDaemon = {
    paths,
    names,
    ports,
    client() {
      if (client === undefined) throw new Error('daemon not started');
      return client;
    },
    call<Res>(method: string, request: object): Promise<Res> {
      const target = daemon.client() as unknown as Record<
        string,
        (req: object, cb: (error: ServiceError | null, res: Res) => void) => void
      >;
      return new Promise((resolve, reject) => {
        const fn = target[method];
        if (fn === undefined) throw new Error(`no method ${method}`);
        fn.call(target, request, (error, response) => (error ? reject(error) : resolve(response)));
      });
    },
    async start() {
      await rm(paths.stateFile, { force: true });
      child = spawn(
        process.execPath,
        [
          BIN,
          ...[
            '--state-dir',
            stateDir,
            '--port',
            String(ports.api),
            '--http-port',
            String(ports.http),
          ],
          ...['--service-address', names.serviceAddress, '--address-pool', names.pool],
          ...['--supervisor-port', String(ports.supervisor), '--proxy-port', String(ports.proxy)],
          ...['--uid-base', String(names.uidBase), '--name-prefix', names.prefix],
          ...['--cgroup-parent', `openshell-test-${names.prefix}`],
          ...(options.resolve ?? []).flatMap((entry) => ['--resolve', entry]),
          ...(options.upstreamCa === undefined ? [] : ['--upstream-ca', options.upstreamCa]),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const started = child;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const state = await readDaemonState(paths);
        if (state?.pid === started.pid) break;
        if (started.exitCode !== null || Date.now() > deadline) {
          throw new Error(
            `the gateway daemon did not start (exit ${String(started.exitCode)}):\n${output}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      await connect();
    },
    async kill(signal) {
      const target = child;
      if (target === undefined || target.exitCode !== null) return;
      const exited = new Promise((resolve) => target.once('exit', resolve));
      target.kill(signal);
      await exited;
    },
    log: () => Promise.resolve(output),
    async cleanup() {
      if (child !== undefined && child.exitCode === null) {
        try {
          const list = await daemon.call<{ sandboxes: { id: string }[] }>('listSandboxes', {
            labelSelector: {},
          });
          for (const sandbox of list.sandboxes) {
            await daemon.call('deleteSandbox', { sandbox: sandbox.id }).catch(() => undefined);
          }
        } catch {
          // The daemon may be dead already; the driver state below is cleaned regardless.
        }
        await daemon.kill('SIGTERM');
      }
      client?.close();
      const proxyPid = Number(
        (await readFile(join(paths.proxyDir, 'proxy.pid'), 'utf8').catch(() => '')).trim(),
      );
      if (proxyPid > 0) {
        try {
          process.kill(proxyPid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await run('ip', ['addr', 'del', `${names.serviceAddress}/32`, 'dev', 'lo']).catch(
        () => undefined,
      );
      await rm(stateDir, { recursive: true, force: true });
      for (const hierarchy of await readdir('/sys/fs/cgroup')) {
        await rmdir(join('/sys/fs/cgroup', hierarchy, `openshell-test-${names.prefix}`)).catch(
          () => undefined,
        );
      }
    },
  };
  return daemon;
}

/** The details of a gRPC error, for asserting on user-facing messages. */
export function grpcDetails(error: unknown): {
  code: number;
  details: string;
  openshellCode: string;
} {
  const e = error as ServiceError;
  return {
    code: e.code,
    details: e.details,
    openshellCode: String(e.metadata?.get('openshell-code')[0] ?? ''),
  };
}
