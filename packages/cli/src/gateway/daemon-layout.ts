import type * as Gateway from '@openshell/gateway';

// The daemon's on-disk layout is owned by @openshell/gateway (one source of truth for the
// daemon and the CLI).
export type DaemonPaths = Gateway.DaemonPaths;
export type DaemonState = Gateway.DaemonState;
export type DaemonLayout = Pick<
  typeof Gateway,
  | 'DEFAULT_GRPC_PORT'
  | 'DEFAULT_HTTP_PORT'
  | 'daemonPaths'
  | 'defaultStateDir'
  | 'gatewayBinPath'
  | 'readDaemonState'
>;

/**
 * Loads the daemon layout on first use. The gateway package's entry point also carries the
 * whole gateway (gRPC server, SQLite store, compute drivers): over a second of start-up that a
 * CLI talking to an already running gateway never needs, so it is imported only on the paths
 * that manage the local daemon. Node's module cache makes repeated calls free.
 */
export async function loadDaemonLayout(): Promise<DaemonLayout> {
  return import('@openshell/gateway');
}
