import type { GatewayConnection } from '../gateway/gateway-client.js';
import { resolveGatewayTarget } from '../gateway/gateway-client.js';
import { readRunningDaemon, settingsFromEnv } from '../gateway/local-daemon.js';

// The gateway's defaults (packages/gateway/src/bin.ts): HTTP health beside the gRPC API,
// the supervisor endpoint on the service address.
const DEFAULT_HTTP_PORT = 17671;
const DEFAULT_SUPERVISOR_PORT = 17672;

function portOf(url: string): number | undefined {
  try {
    const port = Number(new URL(url).port);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

export interface GatewayPorts {
  /** Ports the gateway listens on at the host's 127.0.0.1 (gRPC API, HTTP health). */
  readonly loopback: number[];
  /** Best guess of the supervisor port; the sandbox also finds it from its own connections. */
  readonly supervisorHint: number;
}

/** The ports the sandbox must not reach, from the connection and the local daemon's state. */
export async function findGatewayPorts(
  conn: GatewayConnection,
  flags: { gateway?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): Promise<GatewayPorts> {
  const loopback = new Set<number>();
  const grpc = portOf(conn.endpoint);
  if (grpc !== undefined) loopback.add(grpc);
  const target = await resolveGatewayTarget({ gateway: flags.gateway });
  const running = await readRunningDaemon((await settingsFromEnv(env, target.stateDir)).stateDir);
  const http = running === undefined ? undefined : portOf(running.state.httpEndpoint);
  loopback.add(http ?? DEFAULT_HTTP_PORT);
  const fromEnv = Number(env['OPENSHELL_SUPERVISOR_PORT']);
  return {
    loopback: [...loopback],
    supervisorHint: Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_SUPERVISOR_PORT,
  };
}
