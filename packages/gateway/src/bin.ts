#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { OpenShellError, exitCodeOf, toOpenShellError } from '@openshell/policy-schema';
import { DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, defaultStateDir } from './daemon/daemon-paths.js';
import { runDaemon } from './daemon/run-daemon.js';

const USAGE = `Usage: openshell-gateway [options]   (normally started by \`openshell gateway start\`)

  --state-dir DIR          all local state (default $OPENSHELL_STATE_DIR or /var/lib/openshell)
  --port N                 mTLS gRPC API on 127.0.0.1 (default ${String(DEFAULT_GRPC_PORT)})
  --http-port N            /healthz /readyz /metrics on 127.0.0.1 (default ${String(DEFAULT_HTTP_PORT)})
  --driver local|docker    compute driver (default local; also OPENSHELL_DRIVER)
  --docker-host URL        docker driver: engine socket (default $DOCKER_HOST or unix:///run/podman/podman.sock)
  --docker-image REF       docker driver: image for sandboxes created without --from
  --resolve H:P=A:P        proxy resolve override, repeatable (air-gapped tests, mirrors)
  --upstream-ca FILE       extra CA the proxy trusts for upstream TLS
  --service-address IP     host address sandboxes dial (default 10.200.0.1, put on lo)
  --address-pool CIDR      sandbox address pool (default 10.200.0.0/16; must not hold the service address' /30)
  --supervisor-port N      agent and proxy control endpoint (default 17672)
  --proxy-port N           egress proxy port (default 3128)
  --uid-base N, --name-prefix P, --cgroup-parent NAME   host uid range and object names

Every host-layout flag (service address to cgroup parent) defaults to OPENSHELL_<FLAG>
from the environment, e.g. OPENSHELL_SERVICE_ADDRESS, OPENSHELL_PROXY_PORT.
  -h, --help`;

/**
 * Host-layout settings also come from OPENSHELL_<NAME> (e.g. OPENSHELL_SERVICE_ADDRESS), so
 * a CLI that auto-starts the daemon passes them through its environment: tests and hosts
 * whose 10.200.0.0/16 is taken need no extra CLI flags.
 */
function env(name: string): string | undefined {
  const value = process.env[`OPENSHELL_${name}`];
  return value === undefined || value === '' ? undefined : value;
}

function optional(name: string): { default?: string } {
  const value = env(name);
  return value === undefined ? {} : { default: value };
}

/** The docker driver's socket: like the docker CLI, DOCKER_HOST when set. */
function dockerHostDefault(): { default?: string } {
  const value = process.env['DOCKER_HOST'];
  return value === undefined || value === '' ? {} : { default: value };
}

function port(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new OpenShellError('ERR_USAGE', `--${name} ${text}: expected a port number 0–65535`);
  }
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'state-dir': { type: 'string' },
      port: { type: 'string' },
      'http-port': { type: 'string' },
      driver: { type: 'string', default: env('DRIVER') ?? 'local' },
      'docker-host': { type: 'string', ...dockerHostDefault() },
      'docker-image': { type: 'string', ...optional('DOCKER_IMAGE') },
      resolve: { type: 'string', multiple: true, default: [] },
      'upstream-ca': { type: 'string' },
      'service-address': { type: 'string', default: env('SERVICE_ADDRESS') ?? '10.200.0.1' },
      'address-pool': { type: 'string', default: env('ADDRESS_POOL') ?? '10.200.0.0/16' },
      'supervisor-port': { type: 'string', ...optional('SUPERVISOR_PORT') },
      'proxy-port': { type: 'string', ...optional('PROXY_PORT') },
      'uid-base': { type: 'string', ...optional('UID_BASE') },
      'name-prefix': { type: 'string', ...optional('NAME_PREFIX') },
      'cgroup-parent': { type: 'string', ...optional('CGROUP_PARENT') },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const log = (message: string): void => {
    process.stderr.write(`${new Date().toISOString()} gateway: ${message}\n`);
  };
  const daemon = await runDaemon(
    {
      stateDir: values['state-dir'] ?? defaultStateDir(),
      port: port('port', values.port, DEFAULT_GRPC_PORT),
      httpPort: port('http-port', values['http-port'], DEFAULT_HTTP_PORT),
      driver: values.driver,
      resolve: values.resolve,
      ...(values['upstream-ca'] === undefined ? {} : { upstreamCa: values['upstream-ca'] }),
      serviceAddress: values['service-address'],
      addressPool: values['address-pool'],
      supervisorPort: port('supervisor-port', values['supervisor-port'], 17672),
      proxyPort: port('proxy-port', values['proxy-port'], 3128),
      ...(values['uid-base'] === undefined ? {} : { uidBase: Number(values['uid-base']) }),
      ...(values['name-prefix'] === undefined ? {} : { namePrefix: values['name-prefix'] }),
      ...(values['cgroup-parent'] === undefined ? {} : { cgroupParent: values['cgroup-parent'] }),
      ...(values['docker-host'] === undefined ? {} : { dockerHost: values['docker-host'] }),
      ...(values['docker-image'] === undefined ? {} : { dockerImage: values['docker-image'] }),
    },
    log,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping (sandboxes keep running; the next start reattaches)`);
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`stop failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  const known = toOpenShellError(error);
  process.stderr.write(`openshell-gateway: ${known.message}\n`);
  process.exit(exitCodeOf(error));
});
