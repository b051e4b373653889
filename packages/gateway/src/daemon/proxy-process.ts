import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpenShellError } from '@openshell/policy-schema';

export interface ProxyProcessOptions {
  readonly stateDir: string;
  readonly listen: { readonly address: string; readonly port: number };
  readonly gateway: { readonly address: string; readonly port: number };
  readonly gatewayCaFile: string;
  readonly tokenFile: string;
  readonly resolve: readonly string[];
  readonly upstreamCa?: string;
  readonly log: (message: string) => void;
}

export interface ProxyProcess {
  readonly pid: number;
  /** True when an already running proxy was adopted rather than started. */
  readonly adopted: boolean;
  /** System roots + the proxy's interception CA (what sandboxed TLS clients trust). */
  readonly caBundleFile: string;
  stop(): Promise<void>;
}

/** The proxy's bin, next to its library entry point. */
export function proxyBinPath(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('@openshell/proxy'))), 'bin.js');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The running proxy's arguments after node's own path, or undefined when `pid` is not our proxy. */
async function runningProxyArgs(pid: number): Promise<readonly string[] | undefined> {
  if (!alive(pid)) return undefined;
  const cmdline = await readFile(`/proc/${String(pid)}/cmdline`, 'utf8').catch(() => '');
  const argv = cmdline.split('\0').slice(1, -1);
  return argv[0] === proxyBinPath() ? argv : undefined;
}

function sameArgs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((arg, i) => arg === b[i]);
}

function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: address, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The proxy's command line (after node) for these options; adoption compares it. */
function proxyArgs(options: ProxyProcessOptions): string[] {
  return [
    proxyBinPath(),
    '--listen',
    `${options.listen.address}:${String(options.listen.port)}`,
    '--state-dir',
    options.stateDir,
    '--gateway',
    `${options.gateway.address}:${String(options.gateway.port)}`,
    '--gateway-ca',
    options.gatewayCaFile,
    '--gateway-token-file',
    options.tokenFile,
    '--log',
    join(options.stateDir, 'decisions.jsonl'),
    ...options.resolve.flatMap((entry) => ['--resolve', entry]),
    ...(options.upstreamCa === undefined ? [] : ['--upstream-ca', options.upstreamCa]),
  ];
}

/**
 * Starts the egress proxy as its own detached process (its own session, output to a log file),
 * or adopts the one a previous gateway started with the same options: the proxy must outlive a gateway crash so that
 * sandboxes keep their (enforced) network while the control plane is down. It reconnects to the
 * next gateway by itself.
 */
export async function startProxyProcess(options: ProxyProcessOptions): Promise<ProxyProcess> {
  const pidFile = join(options.stateDir, 'proxy.pid');
  const caBundleFile = join(options.stateDir, 'tls', 'ca-bundle.pem');
  const previous = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  const stop = (pid: number) => async (): Promise<void> => {
    if (!alive(pid)) return;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 50));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  };
  const args = proxyArgs(options);
  const running =
    Number.isInteger(previous) && previous > 0 ? await runningProxyArgs(previous) : undefined;
  if (running !== undefined) {
    if (sameArgs(running, args)) {
      options.log(`adopting the running egress proxy (pid ${String(previous)})`);
      return { pid: previous, adopted: true, caBundleFile, stop: stop(previous) };
    }
    // Adopting it would keep enforcing with the options of the gateway that started it
    // (old resolve overrides, upstream CA, ports) while this gateway reports the new ones.
    options.log(
      `restarting the egress proxy (pid ${String(previous)}): it runs with other options than this gateway's (open tunnels are closed)`,
    );
    await stop(previous)();
  }
  const logFd = openSync(join(options.stateDir, 'proxy.log'), 'a', 0o600);
  const child = spawn(process.execPath, [...args], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    // Nothing of the gateway's environment but what node needs: NODE_OPTIONS or a proxy
    // variable inherited from the operator's shell must not change the data plane.
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
  });
  closeSync(logFd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined)
    throw new OpenShellError('ERR_INTERNAL', 'could not start the egress proxy');
  await writeFile(pidFile, `${String(pid)}\n`, { mode: 0o600 });
  const deadline = Date.now() + 20_000;
  while (!(
    existsSync(caBundleFile) && (await accepts(options.listen.address, options.listen.port))
  )) {
    if (!alive(pid) || Date.now() > deadline) {
      const tail = (await readFile(join(options.stateDir, 'proxy.log'), 'utf8').catch(() => ''))
        .split('\n')
        .slice(-15)
        .join('\n');
      throw new OpenShellError(
        'ERR_INTERNAL',
        `the egress proxy did not start (${alive(pid) ? 'timed out' : 'it exited'}); its log:\n${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  options.log(`egress proxy started (pid ${String(pid)})`);
  return { pid, adopted: false, caBundleFile, stop: stop(pid) };
}
