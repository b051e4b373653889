import type { ServerWritableStream } from '@grpc/grpc-js';
import {
  OpenShellError,
  checkProviderHost,
  findProviderType,
  isCredentialKey,
} from '@openshell/policy-schema';
import {
  InferenceApiShape,
  InferenceRouteKind,
  ServingStatus,
  WatchEventType,
  type FollowLogsRequest,
  type FollowLogsResponse,
  type InferenceRoute,
  type InferenceRouteConfig,
  type OpenShellServer,
  type Provider,
  type WatchSandboxesRequest,
  type WatchSandboxesResponse,
} from '@openshell/proto';
import type {
  EventRecord,
  GatewayStore,
  InferenceRouteRecord,
  ProviderRecord,
  RouteApi,
  RouteKind,
  SandboxRecord,
} from '../store/gateway-store.js';
import { matchesQuery, toEventQuery, toLogEntry, type EventHub } from './event-hub.js';
import { toServiceError, unary } from './grpc-errors.js';
import type { PolicyRevisions } from './policy-revisions.js';
import type { ProxyHub } from './proxy-hub.js';
import type { SandboxChange, SandboxLifecycle } from './sandbox-lifecycle.js';
import type { createSessionRelays } from './session-relays.js';
import { toProtoSandbox } from './to-proto.js';

export interface ServiceInfo {
  readonly version: string;
  readonly startedAtMs: number;
  readonly driver: string;
}

function selected(record: SandboxRecord, selector: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([key, value]) => record.labels[key] === value);
}

function toProtoProvider(record: ProviderRecord): Provider {
  return {
    id: record.id,
    name: record.name,
    type: record.type,
    credentialKeys: [...record.credentialKeys],
    allowedHosts: [...record.allowedHosts],
    createdAtMs: record.createdAtMs,
  };
}

const KINDS: Record<RouteKind, InferenceRouteKind> = {
  local: InferenceRouteKind.INFERENCE_ROUTE_KIND_LOCAL,
  frontier: InferenceRouteKind.INFERENCE_ROUTE_KIND_FRONTIER,
};
const APIS: Record<RouteApi, InferenceApiShape> = {
  openai: InferenceApiShape.INFERENCE_API_SHAPE_OPENAI,
  anthropic: InferenceApiShape.INFERENCE_API_SHAPE_ANTHROPIC,
};

function toProtoRoute(record: InferenceRouteRecord): InferenceRoute {
  return {
    name: record.name,
    kind: KINDS[record.kind],
    baseUrl: record.baseUrl,
    api: APIS[record.api],
    model: record.model,
    hasApiKey: record.hasApiKey,
    updatedAtMs: record.updatedAtMs,
  };
}

/** Every route with its key, for the proxy (the only place route keys leave the store). */
export async function proxyRoutes(store: GatewayStore): Promise<InferenceRouteConfig[]> {
  const keys = await store.inferenceRouteKeys();
  return (await store.listInferenceRoutes()).map((route) => ({
    name: route.name,
    kind: KINDS[route.kind],
    baseUrl: route.baseUrl,
    api: APIS[route.api],
    model: route.model,
    apiKey: keys[route.name] ?? '',
  }));
}

function parseRouteInput(kind: InferenceRouteKind, api: InferenceApiShape, baseUrl: string) {
  const routeKind = (Object.keys(KINDS) as RouteKind[]).find((key) => KINDS[key] === kind);
  const routeApi = (Object.keys(APIS) as RouteApi[]).find((key) => APIS[key] === api);
  if (routeKind === undefined) {
    throw new OpenShellError('ERR_USAGE', 'inference route kind must be local or frontier');
  }
  if (routeApi === undefined) {
    throw new OpenShellError('ERR_USAGE', 'inference route api must be openai or anthropic');
  }
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new OpenShellError(
      'ERR_USAGE',
      `inference route base URL "${baseUrl}" is not a URL (e.g. http://127.0.0.1:11434/v1)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OpenShellError(
      'ERR_USAGE',
      `inference route base URL "${baseUrl}" must be http:// or https://`,
    );
  }
  return { kind: routeKind, api: routeApi };
}

/** The CLI-facing OpenShell service: thin glue from RPCs to the gateway's parts. */
export function createOpenShellService(deps: {
  readonly info: ServiceInfo;
  readonly store: GatewayStore;
  readonly lifecycle: SandboxLifecycle;
  readonly policies: PolicyRevisions;
  readonly relays: ReturnType<typeof createSessionRelays>;
  readonly proxy: ProxyHub;
  readonly events: EventHub;
  readonly now: () => number;
  readonly log: (message: string) => void;
  /** Called after inference routes change, so the proxy gets the new set at once. */
  readonly routesChanged: () => Promise<void>;
}): OpenShellServer {
  const { store, lifecycle, policies, events } = deps;
  const onInternal = (error: unknown): void =>
    deps.log(
      `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  const wrap = <Req, Res>(handler: (request: Req) => Promise<Res>) => unary(handler, onInternal);
  const sandbox = (record: SandboxRecord) => toProtoSandbox(record, lifecycle.countsOf(record.id));

  return {
    health: wrap(async () => {
      await store.ping();
      return { status: ServingStatus.SERVING_STATUS_SERVING, version: deps.info.version };
    }),
    getStatus: wrap(async () => ({
      version: deps.info.version,
      startedAtMs: deps.info.startedAtMs,
      driver: deps.info.driver,
      proxyConnected: deps.proxy.isConnected(),
      sandboxCount: (await store.listSandboxes()).length,
      authMode: 'mtls',
    })),
    createSandbox: wrap(async (request) => {
      const spec = request.spec;
      const record = await lifecycle.create({
        ...(request.name === undefined || request.name === '' ? {} : { name: request.name }),
        labels: request.labels,
        spec: {
          ...(spec?.from === undefined ? {} : { from: spec.from }),
          providers: spec?.providers ?? [],
          env: spec?.env ?? {},
          command: spec?.command ?? [],
          tty: spec?.tty ?? false,
          ...(spec?.cpuMillicores === undefined ? {} : { cpuMillicores: spec.cpuMillicores }),
          ...(spec?.memoryBytes === undefined ? {} : { memoryBytes: spec.memoryBytes }),
          ...(spec?.pidsMax === undefined ? {} : { pidsMax: spec.pidsMax }),
          deleteOnExit: spec?.deleteOnExit ?? false,
        },
        ...(request.policyYaml === undefined ? {} : { policyYaml: request.policyYaml }),
        ...(request.policyFileName === undefined ? {} : { policyFileName: request.policyFileName }),
      });
      return { sandbox: sandbox(record) };
    }),
    getSandbox: wrap(async (request) => ({
      sandbox: sandbox(await lifecycle.resolve(request.sandbox)),
    })),
    listSandboxes: wrap(async (request) => ({
      sandboxes: (await store.listSandboxes())
        .filter((record) => selected(record, request.labelSelector))
        .map(sandbox),
    })),
    deleteSandbox: wrap(async (request) => ({
      sandbox: sandbox(await lifecycle.remove(request.sandbox)),
    })),
    watchSandboxes(call: ServerWritableStream<WatchSandboxesRequest, WatchSandboxesResponse>) {
      const selector = call.request.labelSelector;
      const pending: SandboxChange[] = [];
      let synced = false;
      const listener = (change: SandboxChange): void => {
        if (!selected(change.record, selector)) return;
        if (!synced) pending.push(change);
        else call.write({ type: change.type, sandbox: sandbox(change.record) });
      };
      // Subscribe before listing, so nothing that happens in between is missed.
      lifecycle.watch.on('change', listener);
      const stop = (): void => {
        lifecycle.watch.off('change', listener);
      };
      call.on('cancelled', stop);
      call.on('close', stop);
      store
        .listSandboxes()
        .then((records) => {
          if (call.request.includeInitial) {
            for (const record of records.filter((r) => selected(r, selector))) {
              call.write({ type: WatchEventType.WATCH_EVENT_TYPE_ADDED, sandbox: sandbox(record) });
            }
          }
          call.write({ type: WatchEventType.WATCH_EVENT_TYPE_SYNCED });
          synced = true;
          for (const change of pending.splice(0)) {
            call.write({ type: change.type, sandbox: sandbox(change.record) });
          }
        })
        .catch((error: unknown) => {
          stop();
          call.emit('error', toServiceError(error));
        });
    },
    exec: deps.relays.exec,
    connect: deps.relays.connect,
    upload: deps.relays.upload,
    download: deps.relays.download,
    getPolicy: wrap((request) => policies.get(request.sandbox, request.version)),
    setPolicy: wrap(async (request) => {
      const outcome = await policies.set(
        request.sandbox,
        request.yaml,
        request.fileName ?? 'policy.yaml',
        request.wait,
        request.timeoutMs,
      );
      return {
        revision: outcome.revision,
        unchanged: outcome.unchanged,
        waitTimedOut: outcome.waitTimedOut,
      };
    }),
    updatePolicy: wrap(async (request) => {
      const outcome = await policies.update(
        request.sandbox,
        request.operations,
        request.dryRun,
        request.wait,
        request.timeoutMs,
      );
      return {
        revision: outcome.revision,
        unchanged: outcome.unchanged,
        waitTimedOut: outcome.waitTimedOut,
        yaml: outcome.yaml,
      };
    }),
    listPolicyRevisions: wrap((request) => policies.list(request.sandbox, request.limit)),
    waitPolicy: wrap((request) =>
      policies.wait(request.sandbox, request.version, request.timeoutMs),
    ),
    createProvider: wrap(async (request) => {
      const type = findProviderType(request.type);
      if (type === undefined) {
        throw new OpenShellError(
          'ERR_USAGE',
          `unknown provider type "${request.type}"; use claude-code, codex, opencode, copilot, github, gitlab, anthropic, openai, nvidia or generic`,
        );
      }
      const keys = Object.keys(request.credentials);
      if (keys.length === 0) {
        throw new OpenShellError(
          'ERR_USAGE',
          `provider ${request.name} needs at least one credential`,
        );
      }
      const badKey = keys.find((key) => !isCredentialKey(key));
      if (badKey !== undefined) {
        throw new OpenShellError(
          'ERR_USAGE',
          `credential name "${badKey}" must be an environment variable name`,
        );
      }
      const hosts = request.allowedHosts.length > 0 ? request.allowedHosts : [...type.allowedHosts];
      if (hosts.length === 0) {
        throw new OpenShellError(
          'ERR_USAGE',
          `provider type ${type.type} has no default hosts: pass --allowed-host HOST (where these credentials may be sent)`,
        );
      }
      for (const host of hosts) {
        const problem = checkProviderHost(host);
        if (problem !== undefined)
          throw new OpenShellError('ERR_USAGE', `allowed host "${host}": ${problem}`);
      }
      const record = await store.createProvider(
        {
          name: request.name,
          type: type.type,
          credentials: request.credentials,
          allowedHosts: hosts,
        },
        deps.now(),
      );
      return { provider: toProtoProvider(record) };
    }),
    getProvider: wrap(async (request) => {
      const record = await store.getProvider(request.name);
      if (record === undefined) {
        throw new OpenShellError(
          'ERR_PROVIDER_NOT_FOUND',
          `provider "${request.name}" not found; \`openshell provider list\` shows them`,
        );
      }
      return { provider: toProtoProvider(record) };
    }),
    listProviders: wrap(async () => ({
      providers: (await store.listProviders()).map(toProtoProvider),
    })),
    deleteProvider: wrap(async (request) => {
      const users = (await store.listSandboxes()).filter((s) =>
        s.spec.providers.includes(request.name),
      );
      if (users.length > 0) {
        throw new OpenShellError(
          'ERR_CONFLICT',
          `provider ${request.name} is used by sandbox ${users.map((s) => s.name).join(', ')}; delete those first`,
        );
      }
      if (!(await store.deleteProvider(request.name))) {
        throw new OpenShellError('ERR_PROVIDER_NOT_FOUND', `provider "${request.name}" not found`);
      }
      // Nothing to push: a provider in use is refused above, and bindings are per sandbox.
      return {};
    }),
    setInferenceRoute: wrap(async (request) => {
      const parsed = parseRouteInput(request.kind, request.api, request.baseUrl);
      if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/.test(request.name)) {
        throw new OpenShellError(
          'ERR_USAGE',
          `route name "${request.name}" must be 1–63 letters, digits, '.', '_' or '-'`,
        );
      }
      const record = await store.setInferenceRoute(
        {
          name: request.name,
          ...parsed,
          baseUrl: request.baseUrl,
          model: request.model,
          ...(request.apiKey === undefined ? {} : { apiKey: request.apiKey }),
        },
        deps.now(),
      );
      await deps.routesChanged();
      return { route: toProtoRoute(record) };
    }),
    getInferenceRoute: wrap(async (request) => {
      const record = await store.getInferenceRoute(request.name);
      if (record === undefined) {
        throw new OpenShellError(
          'ERR_INFERENCE_ROUTE_NOT_FOUND',
          `inference route "${request.name}" not found`,
        );
      }
      return { route: toProtoRoute(record) };
    }),
    listInferenceRoutes: wrap(async () => ({
      routes: (await store.listInferenceRoutes()).map(toProtoRoute),
    })),
    deleteInferenceRoute: wrap(async (request) => {
      if (!(await store.deleteInferenceRoute(request.name))) {
        throw new OpenShellError(
          'ERR_INFERENCE_ROUTE_NOT_FOUND',
          `inference route "${request.name}" not found`,
        );
      }
      await deps.routesChanged();
      return {};
    }),
    getLogs: wrap(async (request) => {
      const ref = request.filter?.sandbox;
      const sandboxId = ref === undefined ? undefined : await sandboxIdForLogs(ref);
      await events.flush();
      const records = await store.queryEvents(toEventQuery(request.filter, sandboxId));
      return { entries: records.map(toLogEntry) };
    }),
    followLogs(call: ServerWritableStream<FollowLogsRequest, FollowLogsResponse>) {
      const buffered: EventRecord[] = [];
      let lastId = 0;
      let live = false;
      let query = toEventQuery(call.request.filter);
      const listener = (record: EventRecord): void => {
        if (!live) {
          buffered.push(record);
          return;
        }
        if (record.id > lastId && matchesQuery(record, query)) {
          lastId = record.id;
          call.write({ entry: toLogEntry(record) });
        }
      };
      const unsubscribe = events.subscribe(listener);
      call.on('cancelled', unsubscribe);
      call.on('close', unsubscribe);
      (async () => {
        const ref = call.request.filter?.sandbox;
        const sandboxId = ref === undefined ? undefined : await sandboxIdForLogs(ref);
        query = toEventQuery(call.request.filter, sandboxId);
        await events.flush();
        for (const record of await store.queryEvents(query)) {
          lastId = Math.max(lastId, record.id);
          call.write({ entry: toLogEntry(record) });
        }
        live = true;
        for (const record of buffered.splice(0)) listener(record);
      })().catch((error: unknown) => {
        unsubscribe();
        call.emit('error', toServiceError(error));
      });
    },
  };

  /** Logs outlive sandboxes: a deleted sandbox's name still finds its events. */
  async function sandboxIdForLogs(ref: string): Promise<string> {
    const record = await store.getSandbox(ref);
    if (record !== undefined) return record.id;
    const recent = await store.queryEvents({ limit: 5000 });
    const match = [...recent].reverse().find((e) => e.sandboxName === ref || e.sandboxId === ref);
    if (match !== undefined) return match.sandboxId;
    throw new OpenShellError(
      'ERR_SANDBOX_NOT_FOUND',
      `sandbox "${ref}" not found (and no events name it)`,
    );
  }
}
