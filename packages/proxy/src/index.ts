// Public surface of @openshell/proxy: the egress proxy factory and the types around it.
export {
  createProxy,
  type Proxy,
  type ProxyOptions,
  type ProxyDeps,
  type ProxyStats,
} from './create-proxy.js';
export {
  connectProxyControl,
  type ProxyControl,
  type ProxyControlOptions,
  type ProxyControlDeps,
} from './control/connect-control.js';
export type { SandboxConfig } from './sandbox/sandbox-registry.js';
export type { PolicyAck } from './sandbox/sandbox-control.js';
export type { CredentialBinding } from './credentials/credential-bindings.js';
export type { CallerIdentity, CallerResolver, SocketInfo } from './caller/caller-resolver.js';
export {
  createProcCallerResolver,
  type ProcCallerResolverOptions,
} from './caller/create-proc-caller-resolver.js';
export type { DecisionEvent, DecisionOutcome, DecisionSink } from './events/decision-event.js';
export type { HostResolver, ResolvedAddress, DialTarget } from './ssrf/resolve-destination.js';
export { parseResolveOverride, type ResolveOverride } from './ssrf/resolve-overrides.js';
export type { Dialer } from './upstream/dial.js';
export type { UpstreamProxy } from './upstream/connect-upstream.js';
export type { InferenceRoute, InferenceApiShape } from './inference/inference-routes.js';
