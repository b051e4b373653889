// Public surface of @openshell/sandbox-agent: the session engine and its transports, the
// enforced process launcher, and the control-socket service for clients of file mode.
export {
  createSessionEngine,
  type SessionEngine,
  type SessionEngineDeps,
} from './session-engine.js';
export type { SessionChannel, SessionInputValue } from './session-events.js';
export {
  createEnforcedLauncher,
  type EnforcedLauncherOptions,
} from './create-enforced-launcher.js';
export type {
  LaunchRequest,
  LaunchedProcess,
  OutputChannelName,
  ProcessExit,
  ProcessLauncher,
  TerminalSizeLike,
} from './process-launcher.js';
export { buildSandboxEnv, type SandboxConfig } from './sandbox-env.js';
export { createPolicyState, type PolicyState } from './policy-state.js';
export { createEventOutbox, type EventOutbox } from './event-outbox.js';
export { createDetachScanner, type DetachScan } from './detach-keys.js';
export { ExtractionGuard, type ArchiveEntryHeader, type GuardedEntry } from './extraction-guard.js';
export { identifySocketOwner, type IdentifyOptions } from './identify-socket-owner.js';
export {
  SupervisorControlService,
  SupervisorControlClient,
  createControlClient,
} from './control-service.js';
export {
  serveControlSocket,
  type ControlSocket,
  type ControlSocketOptions,
} from './serve-control-socket.js';
export {
  connectGateway,
  type GatewayConnection,
  type GatewayConnectionOptions,
} from './connect-gateway.js';
export { parseAgentArgs, AGENT_USAGE, type AgentArgs } from './parse-agent-args.js';
export { runAgent } from './run-agent.js';
export { MAIN_SESSION_ID } from './main-process.js';
export { createLogger, type Logger } from './logger.js';
