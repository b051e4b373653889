import type { InferenceRoute, OpenShellServer, Provider } from '@openshell/proto';
import { findProviderType } from '@openshell/policy-schema';
import { wireError } from './fake-wire-error.js';

export interface FakeCatalogCall {
  readonly method: string;
  readonly request: unknown;
}

const T0 = Date.UTC(2026, 10, 27, 9, 0, 0);

/**
 * Providers and inference routes held in memory, like the gateway's store: credential values
 * are kept (so a test can check they arrived) but never returned, matching the contract.
 */
export function createFakeCatalogService() {
  const calls: FakeCatalogCall[] = [];
  const providers = new Map<string, Provider>();
  const secrets = new Map<string, Record<string, string>>();
  const routes = new Map<string, InferenceRoute>();
  const routeKeys = new Map<string, string>();

  const handlers: Pick<
    OpenShellServer,
    | 'createProvider'
    | 'getProvider'
    | 'listProviders'
    | 'deleteProvider'
    | 'setInferenceRoute'
    | 'getInferenceRoute'
    | 'listInferenceRoutes'
    | 'deleteInferenceRoute'
  > = {
    createProvider(call, callback) {
      calls.push({ method: 'createProvider', request: call.request });
      const { name, type, credentials, allowedHosts } = call.request;
      if (providers.has(name)) {
        return callback(wireError('ERR_PROVIDER_EXISTS', `provider ${name} already exists`), null);
      }
      const info = findProviderType(type);
      if (info === undefined) return callback(wireError('ERR_USAGE', `unknown type ${type}`), null);
      const provider: Provider = {
        id: `prov-${providers.size + 1}`,
        name,
        type: info.type,
        credentialKeys: Object.keys(credentials).sort(),
        allowedHosts: info.type === 'generic' ? allowedHosts : [...info.allowedHosts],
        createdAtMs: T0,
      };
      providers.set(name, provider);
      secrets.set(name, { ...credentials });
      callback(null, { provider });
    },
    getProvider(call, callback) {
      calls.push({ method: 'getProvider', request: call.request });
      const provider = providers.get(call.request.name);
      if (provider === undefined) {
        return callback(
          wireError('ERR_PROVIDER_NOT_FOUND', `provider ${call.request.name} not found`),
          null,
        );
      }
      callback(null, { provider });
    },
    listProviders(call, callback) {
      calls.push({ method: 'listProviders', request: call.request });
      callback(null, { providers: [...providers.values()] });
    },
    deleteProvider(call, callback) {
      calls.push({ method: 'deleteProvider', request: call.request });
      if (!providers.delete(call.request.name)) {
        return callback(
          wireError('ERR_PROVIDER_NOT_FOUND', `provider ${call.request.name} not found`),
          null,
        );
      }
      secrets.delete(call.request.name);
      callback(null, {});
    },
    setInferenceRoute(call, callback) {
      calls.push({ method: 'setInferenceRoute', request: call.request });
      const { name, kind, baseUrl, api, model, apiKey } = call.request;
      if (apiKey !== undefined) {
        if (apiKey === '') routeKeys.delete(name);
        else routeKeys.set(name, apiKey);
      }
      const route: InferenceRoute = {
        name,
        kind,
        baseUrl,
        api,
        model,
        hasApiKey: routeKeys.has(name),
        updatedAtMs: T0 + routes.size * 1000,
      };
      routes.set(name, route);
      callback(null, { route });
    },
    getInferenceRoute(call, callback) {
      calls.push({ method: 'getInferenceRoute', request: call.request });
      const route = routes.get(call.request.name);
      if (route === undefined) {
        return callback(
          wireError(
            'ERR_INFERENCE_ROUTE_NOT_FOUND',
            `inference route ${call.request.name} not found`,
          ),
          null,
        );
      }
      callback(null, { route });
    },
    listInferenceRoutes(call, callback) {
      calls.push({ method: 'listInferenceRoutes', request: call.request });
      callback(null, { routes: [...routes.values()] });
    },
    deleteInferenceRoute(call, callback) {
      calls.push({ method: 'deleteInferenceRoute', request: call.request });
      if (!routes.delete(call.request.name)) {
        return callback(
          wireError(
            'ERR_INFERENCE_ROUTE_NOT_FOUND',
            `inference route ${call.request.name} not found`,
          ),
          null,
        );
      }
      routeKeys.delete(call.request.name);
      callback(null, {});
    },
  };

  /** Empties every store and the call log. */
  function reset(): void {
    calls.length = 0;
    providers.clear();
    secrets.clear();
    routes.clear();
    routeKeys.clear();
  }

  return { handlers, calls, secrets, routeKeys, reset };
}
