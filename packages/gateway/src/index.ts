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
  planFirstContact,
  startSandboxRuntime,
  type AgentInstall,
  type FirstContact,
  type SandboxRuntime,
  type SandboxRuntimeOptions,
  type SupervisorEndpoint,
} from './runtime/start-sandbox-runtime.js';
