#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OpenShellError, exitCodeOf, toOpenShellError } from '@openshell/policy-schema';
import type { ProxyControl } from './control/connect-control.js';
import { readTokenFile } from './control/read-token-file.js';
import { createProxy } from './create-proxy.js';
import { parseInferenceRoutesFile } from './standalone/read-inference-routes.js';
import { watchPolicyFile } from './standalone/watch-policy-file.js';

const USAGE = `Usage: openshell-proxy [options]

  --listen HOST:PORT        listen address (default 127.0.0.1:3128; port 0 = any free port)
  --policy FILE             standalone mode: enforce FILE (watched) for every loopback caller
  --gateway HOST:PORT       gateway mode: take sandboxes, policies, credentials and inference
                            routes from the gateway's ProxyControl stream (TLS); excludes --policy
  --gateway-ca FILE         CA (PEM) that signed the gateway's certificate (with --gateway)
  --gateway-token-file FILE proxy token issued by the gateway (with --gateway); must be owned
                            by the running user with mode 0600 or stricter
  --gateway-server-name NAME  name the gateway's certificate must carry (default: the HOST of
                            --gateway)
  --state-dir DIR           CA and persisted policies (default $OPENSHELL_PROXY_STATE_DIR or
                            ~/.local/state/openshell/proxy)
  --resolve HOST:PORT=ADDR:PORT   static resolve override, repeatable (trusted: no SSRF checks)
  --upstream-ca FILE        extra CA (PEM) trusted for upstream TLS
  --log FILE                JSON-lines decision log (rotated at 10 MiB, 3 kept)
  --upstream-proxy URL      chain allowed connections through http://HOST:PORT (CONNECT by
                            name; credentials in the URL are visible in ps: prefer
                            $OPENSHELL_UPSTREAM_PROXY for those)
  --inference-routes FILE   JSON list of inference routes for inference.local (read at start;
                            "apiKeyEnv": "VAR" takes a key from the environment)
  -h, --help                show this help

On start, one JSON line with the bound address and CA paths is printed on stdout.`;

/** The standalone sandbox: every loopback client is one sandbox named `default`. */
const STANDALONE = { id: 'default', sourceAddresses: ['127.0.0.0/8', '::1'] } as const;

function readInput(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new OpenShellError(
      'ERR_INPUT_UNREADABLE',
      `cannot read ${what} ${path}: ${String(error)}`,
      { cause: error },
    );
  }
}

interface GatewayFlags {
  readonly address: string;
  readonly caPem: string;
  readonly token: string;
  readonly serverName?: string;
}

/** Checks the --gateway* flags together and reads the CA and token before anything starts. */
function readGatewayFlags(values: {
  readonly gateway?: string | undefined;
  readonly policy?: string | undefined;
  readonly 'gateway-ca'?: string | undefined;
  readonly 'gateway-token-file'?: string | undefined;
  readonly 'gateway-server-name'?: string | undefined;
}): GatewayFlags | null {
  const address = values.gateway;
  if (address === undefined) {
    const stray = (['gateway-ca', 'gateway-token-file', 'gateway-server-name'] as const).find(
      (flag) => values[flag] !== undefined,
    );
    if (stray) throw new OpenShellError('ERR_USAGE', `--${stray} needs --gateway HOST:PORT`);
    return null;
  }
  // Two sources of truth for the same sandboxes would overwrite each other's policies.
  if (values.policy !== undefined) {
    throw new OpenShellError(
      'ERR_USAGE',
      '--gateway and --policy are mutually exclusive: with --gateway the gateway pushes every policy',
    );
  }
  const caFile = values['gateway-ca'];
  const tokenFile = values['gateway-token-file'];
  if (caFile === undefined || tokenFile === undefined) {
    throw new OpenShellError(
      'ERR_USAGE',
      '--gateway needs --gateway-ca FILE (the CA of the gateway certificate) and --gateway-token-file FILE (the proxy token)',
    );
  }
  const serverName = values['gateway-server-name'];
  return {
    address,
    caPem: readInput(caFile, '--gateway-ca'),
    token: readTokenFile(tokenFile),
    ...(serverName === undefined ? {} : { serverName }),
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      listen: { type: 'string', default: '127.0.0.1:3128' },
      policy: { type: 'string' },
      gateway: { type: 'string' },
      'gateway-ca': { type: 'string' },
      'gateway-token-file': { type: 'string' },
      'gateway-server-name': { type: 'string' },
      'state-dir': { type: 'string' },
      resolve: { type: 'string', multiple: true, default: [] },
      'upstream-ca': { type: 'string' },
      log: { type: 'string' },
      'upstream-proxy': { type: 'string' },
      'inference-routes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const listen = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(values.listen);
  const port = Number(listen?.[2]);
  if (!listen?.[1] || port > 65535) {
    throw new OpenShellError(
      'ERR_USAGE',
      `--listen ${values.listen}: expected HOST:PORT, e.g. 127.0.0.1:3128`,
    );
  }
  const gateway = readGatewayFlags(values);
  const stateDir = resolve(
    values['state-dir'] ??
      process.env['OPENSHELL_PROXY_STATE_DIR'] ??
      join(homedir(), '.local/state/openshell/proxy'),
  );
  const warn = (message: string): void => {
    process.stderr.write(`openshell-proxy: ${message}\n`);
  };
  const upstreamProxy = values['upstream-proxy'] ?? process.env['OPENSHELL_UPSTREAM_PROXY'];
  const routesFile = values['inference-routes'];
  const routes =
    routesFile === undefined
      ? undefined
      : parseInferenceRoutesFile(
          readInput(routesFile, '--inference-routes'),
          routesFile,
          process.env,
        );
  const proxy = await createProxy(
    {
      stateDir,
      listen: { host: listen[1], port },
      resolveOverrides: values.resolve,
      ...(values['upstream-ca']
        ? { upstreamCaPem: readInput(values['upstream-ca'], '--upstream-ca') }
        : {}),
      ...(values.log ? { log: { path: resolve(values.log) } } : {}),
      ...(upstreamProxy ? { upstreamProxy } : {}),
    },
    { warn },
  );
  if (routes) {
    try {
      proxy.setInferenceRoutes(routes);
    } catch (error) {
      await proxy.close();
      throw error;
    }
  }
  let control: ProxyControl | null = null;
  if (gateway) {
    const host = proxy.address.host.includes(':') ? `[${proxy.address.host}]` : proxy.address.host;
    try {
      // Loaded only in gateway mode: grpc-js and the generated code add ~0.4 s to start-up,
      // which standalone users (one proxy per agent run) should not pay.
      const { connectProxyControl } = await import('./control/connect-control.js');
      control = connectProxyControl(
        proxy,
        { ...gateway, listenAddress: `${host}:${proxy.address.port}` },
        { warn },
      );
    } catch (error) {
      await proxy.close();
      throw error;
    }
  }
  let watcher: ReturnType<typeof watchPolicyFile> | null = null;
  if (values.policy !== undefined) {
    // Versions continue from the persisted one so a restart's first push is not "older".
    let version = proxy.restored.find((a) => a.sandbox === STANDALONE.id)?.version ?? 0;
    watcher = watchPolicyFile({
      path: resolve(values.policy),
      warn,
      apply: (policy) => proxy.setSandbox({ ...STANDALONE, policy, version: ++version }),
    });
    await watcher.reload();
  }
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', address: `${proxy.address.host}:${proxy.address.port}`, caBundlePath: proxy.caBundlePath, caCertPath: proxy.caCertPath })}\n`,
  );
  const stop = (): void => {
    watcher?.close();
    Promise.all([control?.close(), proxy.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const e =
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('ERR_PARSE_ARGS')
      ? new OpenShellError('ERR_USAGE', `${error.message}\n\n${USAGE}`)
      : toOpenShellError(error);
  process.stderr.write(`openshell-proxy: ${e.message}\n`);
  process.exit(exitCodeOf(e));
});
