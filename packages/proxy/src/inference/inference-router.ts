import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { SecureContext } from 'node:tls';
import type { InferencePolicy } from '@openshell/policy-schema';
import {
  compileInferenceRoutes,
  type InferenceRoute,
  type RouteTable,
} from './inference-routes.js';
import { compileSensitivity, type CompiledSensitivity } from './sensitivity.js';

/** The router's shared state: the configured routes and the upstream connection pools. */
export interface InferenceRouter {
  routes(): RouteTable;
  /** Validates and swaps the whole route set; throws ERR_USAGE and keeps the old set on error. */
  setRoutes(routes: readonly InferenceRoute[]): void;
  /** The compiled sensitivity rules of one policy's inference section (cached per policy). */
  sensitivityFor(policy: InferencePolicy): CompiledSensitivity;
  readonly httpAgent: HttpAgent;
  /** Verifies https routes against the system roots plus the operator's extra CA. */
  readonly httpsAgent: HttpsAgent;
  destroy(): void;
}

export interface InferenceRouterOptions {
  readonly secureContext: SecureContext;
  /** Time budget for a request's custom sensitivity patterns. */
  readonly patternTimeoutMs: number;
}

/** Creates the router state with no routes (every request then gets 503 until routes arrive). */
export function createInferenceRouter(options: InferenceRouterOptions): InferenceRouter {
  let table: RouteTable = new Map();
  // Keyed by the policy's inference object, which is replaced whole on every policy push,
  // so a reload recompiles and an old sandbox state is collected with its rules.
  const sensitivity = new WeakMap<InferencePolicy, CompiledSensitivity>();
  const agentOptions = { keepAlive: true, maxFreeSockets: 16, timeout: 120_000 };
  const httpAgent = new HttpAgent(agentOptions);
  const httpsAgent = new HttpsAgent({ ...agentOptions, secureContext: options.secureContext });
  return {
    routes: () => table,
    setRoutes(routes) {
      table = compileInferenceRoutes(routes);
    },
    sensitivityFor(policy) {
      let compiled = sensitivity.get(policy);
      if (!compiled) {
        compiled = compileSensitivity(policy.sensitivity, options.patternTimeoutMs);
        sensitivity.set(policy, compiled);
      }
      return compiled;
    },
    httpAgent,
    httpsAgent,
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
