// Public surface of @openshell/gateway.
export type {
  ComputeDriver,
  DeleteOptions,
  HostResources,
  RunBind,
  SandboxExit,
  SandboxHandle,
  SandboxIdentity,
  SandboxLimits,
  SandboxNetwork,
  SandboxSpec,
  SandboxState,
  TcpEndpoint,
} from './drivers/compute-driver.js';
export { createLocalDriver, type LocalDriverDeps } from './drivers/local/create-local-driver.js';
export {
  createDockerDriver,
  type DockerDriver,
  type DockerDriverOptions,
} from './drivers/docker/create-docker-driver.js';
export {
  createEngineClient,
  describeEngine,
  parseDockerHost,
  type EngineClient,
  type EngineVersion,
} from './drivers/docker/engine-client.js';
export {
  DEFAULT_DOCKER_HOST,
  probeContainerEngine,
  type EngineProbe,
} from './drivers/docker/probe-engine.js';
export type { LocalDriverOptions, HostTools } from './drivers/local/local-driver-options.js';
export { AGENT_CAPABILITIES } from './drivers/local/build-bwrap-args.js';
export { AGENT_UID } from './drivers/local/plan-network.js';
export {
  checkHost,
  type CheckHostDeps,
  type HostCheck,
  type HostCheckStatus,
  type HostReport,
} from './host-check/check-host.js';
export {
  DEFAULT_GRPC_PORT,
  DEFAULT_HTTP_PORT,
  daemonPaths,
  defaultStateDir,
  gatewayBinPath,
  readDaemonState,
  type DaemonPaths,
  type DaemonState,
} from './daemon/daemon-paths.js';
export {
  runDaemon,
  defaultAgentInstall,
  type DaemonOptions,
  type RunningDaemon,
} from './daemon/run-daemon.js';
export { loadOrCreatePki, type GatewayPki } from './pki/gateway-pki.js';
export { startGateway, type Gateway, type GatewayOptions } from './server/start-gateway.js';
export {
  planFirstContact,
  startSandboxRuntime,
  type AgentInstall,
  type FirstContact,
  type SandboxRuntime,
  type SandboxRuntimeOptions,
  type SupervisorEndpoint,
} from './runtime/start-sandbox-runtime.js';
// State store: SQLite by default; other implementations satisfy the same GatewayStore.
export { openSqliteStore, type SqliteStoreOptions } from './store/open-sqlite-store.js';
export type {
  AddRevisionResult,
  EventKind,
  EventLevel,
  EventQuery,
  EventRecord,
  EventSource,
  GatewayStore,
  InferenceRouteInput,
  InferenceRouteRecord,
  NewEvent,
  NewProvider,
  NewSandbox,
  PolicyRevisionRecord,
  PolicyStatus,
  ProviderRecord,
  RetentionPolicy,
  RevisionPatch,
  RouteApi,
  RouteKind,
  SandboxPatch,
  SandboxPhase,
  SandboxRecord,
  StoredExit,
  StoredSandboxSpec,
} from './store/gateway-store.js';
