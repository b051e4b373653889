import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { SANDBOX_GID, SANDBOX_UID } from '@openshell/native-enforcer';
import { OpenShellError } from '@openshell/policy-schema';
import type { SandboxConfig } from './sandbox-env.js';

export const AGENT_USAGE = `usage:
  openshell-sandbox-agent --gateway HOST:PORT --sandbox-id ID (--token-fd N | --token-file PATH)
                          (--gateway-ca PATH | --insecure) [--start-gate-fd N] [common options]
  openshell-sandbox-agent --spec-file PATH --control-socket PATH [common options]
common options:
  --home DIR            cwd and HOME of sandboxed processes (default /sandbox)
  --proxy-url URL       egress proxy for HTTP(S)_PROXY/ALL_PROXY
  --no-proxy LIST       NO_PROXY (default localhost,127.0.0.1,::1 when a proxy is set)
  --ca-bundle PATH      CA bundle for SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, ...
  --sandbox-uid N       host uid that "sandbox" means (default ${SANDBOX_UID})
  --sandbox-gid N       host gid that "sandbox" means (default ${SANDBOX_GID})
  --upload-root DIR     directory uploads may target (repeatable; default HOME and /tmp)
--start-gate-fd N waits for one byte on inherited fd N (the driver's "network ready") before the
first connection, so the agent can start while the driver still configures the network.
The token is read from an inherited fd or a root-only file, never from argv or the environment.`;

export type TokenSource = { readonly fd: number } | { readonly file: string };

export interface GatewayModeArgs {
  readonly mode: 'gateway';
  readonly target: string;
  readonly sandboxId: string;
  readonly token: TokenSource;
  /** CA file for TLS, or undefined with --insecure (loopback only). */
  readonly gatewayCa: string | undefined;
  /** Inherited fd that delivers one byte once the sandbox's network is configured. */
  readonly startGateFd?: number;
}

export interface FileModeArgs {
  readonly mode: 'file';
  readonly specFile: string;
  readonly controlSocket: string;
}

export type AgentArgs = (GatewayModeArgs | FileModeArgs) & {
  readonly sandbox: SandboxConfig;
  readonly sandboxUid: number;
  readonly sandboxGid: number;
};

function usage(message: string): OpenShellError {
  return new OpenShellError('ERR_USAGE', `${message}\n${AGENT_USAGE}`);
}

function parseId(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const id = Number(value);
  if (!/^[0-9]+$/.test(value) || id < 1 || id > 4294967294) {
    throw usage(
      `${flag} ${value} must be an integer in 1..4294967294 (root is never a sandbox identity)`,
    );
  }
  return id;
}

/** `host:port` or `[v6]:port`; --insecure is refused unless the host is loopback. */
function parseTarget(value: string, insecure: boolean): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):([0-9]{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65535)
    throw usage(`--gateway ${value} must be HOST:PORT`);
  const host = (match[1] ?? '').replace(/^\[|\]$/g, '');
  const loopback =
    host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (insecure && !loopback) {
    throw usage(
      `--insecure sends the sandbox token in clear text and is allowed only for loopback gateways, not ${host}; pass --gateway-ca`,
    );
  }
  return value;
}

/** Parses the agent's command line (argv without node and the script). */
export function parseAgentArgs(argv: readonly string[]): AgentArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        gateway: { type: 'string' },
        'sandbox-id': { type: 'string' },
        'token-fd': { type: 'string' },
        'token-file': { type: 'string' },
        'start-gate-fd': { type: 'string' },
        'gateway-ca': { type: 'string' },
        insecure: { type: 'boolean' },
        'spec-file': { type: 'string' },
        'control-socket': { type: 'string' },
        home: { type: 'string' },
        'proxy-url': { type: 'string' },
        'no-proxy': { type: 'string' },
        'ca-bundle': { type: 'string' },
        'sandbox-uid': { type: 'string' },
        'sandbox-gid': { type: 'string' },
        'upload-root': { type: 'string', multiple: true },
      },
    }));
  } catch (cause) {
    throw usage((cause as Error).message);
  }
  const home = values.home ?? '/sandbox';
  const paths: Array<[string, string | undefined]> = [
    ['--home', home],
    ['--ca-bundle', values['ca-bundle']],
    ...(values['upload-root'] ?? []).map((root): [string, string] => ['--upload-root', root]),
  ];
  for (const [flag, path] of paths) {
    if (path !== undefined && !path.startsWith('/'))
      throw usage(`${flag} ${path} must be an absolute path`);
  }
  const common = {
    sandbox: {
      home,
      proxyUrl: values['proxy-url'],
      noProxy: values['no-proxy'],
      caBundle: values['ca-bundle'],
      uploadRoots: values['upload-root'] ?? [home, '/tmp'],
    },
    sandboxUid: parseId('--sandbox-uid', values['sandbox-uid'], SANDBOX_UID),
    sandboxGid: parseId('--sandbox-gid', values['sandbox-gid'], SANDBOX_GID),
  };
  const gatewayFlags = [
    'gateway',
    'sandbox-id',
    'token-fd',
    'token-file',
    'start-gate-fd',
    'gateway-ca',
    'insecure',
  ] as const;
  const fileFlags = ['spec-file', 'control-socket'] as const;
  const usesGateway = gatewayFlags.some((flag) => values[flag] !== undefined);
  const usesFile = fileFlags.some((flag) => values[flag] !== undefined);
  if (usesGateway === usesFile)
    throw usage('choose one mode: --gateway ... or --spec-file ... --control-socket ...');
  if (usesFile) {
    const specFile = values['spec-file'];
    const controlSocket = values['control-socket'];
    if (specFile === undefined || controlSocket === undefined)
      throw usage('file mode needs both --spec-file and --control-socket');
    return { mode: 'file', specFile, controlSocket, ...common };
  }
  const { gateway, 'sandbox-id': sandboxId, 'token-fd': tokenFd, 'token-file': tokenFile } = values;
  if (gateway === undefined || sandboxId === undefined || sandboxId === '')
    throw usage('gateway mode needs --gateway and --sandbox-id');
  if ((tokenFd === undefined) === (tokenFile === undefined))
    throw usage('give exactly one of --token-fd and --token-file');
  if ((values['gateway-ca'] === undefined) === (values.insecure !== true))
    throw usage('give exactly one of --gateway-ca and --insecure');
  for (const [flag, fd] of [
    ['--token-fd', tokenFd],
    ['--start-gate-fd', values['start-gate-fd']],
  ] as const) {
    if (fd !== undefined && !/^[0-9]+$/.test(fd))
      throw usage(`${flag} ${fd} must be a file descriptor number`);
  }
  const startGate = values['start-gate-fd'];
  return {
    mode: 'gateway',
    target: parseTarget(gateway, values.insecure === true),
    sandboxId,
    token: tokenFd !== undefined ? { fd: Number(tokenFd) } : { file: tokenFile ?? '' },
    gatewayCa: values['gateway-ca'],
    ...(startGate === undefined ? {} : { startGateFd: Number(startGate) }),
    ...common,
  };
}
