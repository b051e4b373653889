import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { cpus } from 'node:os';
import {
  DEFAULT_POLICY,
  OpenShellError,
  canonicalPolicyJson,
  formatDiagnostic,
  hashPolicy,
  parsePolicy,
  policyToYaml,
  type Policy,
} from '@openshell/policy-schema';
import {
  LifecycleEventKind,
  WatchEventType,
  type AgentHello,
  type CredentialBinding,
  type DecisionCounts,
  type ExitStatus,
  type PolicyPush,
  type ProcessSpec,
  type SandboxConfig,
} from '@openshell/proto';
import type { ComputeDriver, SandboxHandle } from '../drivers/compute-driver.js';
import { startSandboxRuntime, type AgentInstall } from '../runtime/start-sandbox-runtime.js';
import type {
  GatewayStore,
  PolicyRevisionRecord,
  SandboxPatch,
  SandboxRecord,
  StoredExit,
  StoredSandboxSpec,
} from '../store/gateway-store.js';
import type { EventHub } from './event-hub.js';
import { choosePetname } from './petname.js';
import type { ProxyHub } from './proxy-hub.js';
import { readLogTail } from './read-log-tail.js';
import { sha256Hex, type SupervisorHub } from './supervisor-hub.js';
import { toProtoPhase } from './to-proto.js';

/** The main process of a sandbox whose command runs as an attached session (gateway-wire). */
export const IDLE_MAIN = ['/bin/sleep', 'infinity'] as const;
const PROVISION_TIMEOUT_MS = 60_000;
const COUNTS_COALESCE_MS = 1000;
const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/;

export interface LifecycleOptions {
  /** Address on the host that sandboxes dial for the proxy and the supervisor. */
  readonly serviceAddress: string;
  readonly proxyPort: number;
  readonly supervisorPort: number;
  /** Directory holding only the gateway CA (`ca.pem`), bound into sandboxes for the agent. */
  readonly gatewayCaDir: string;
  /** Directory holding only the sandbox CA bundle, and the file's name. */
  readonly sandboxCaBundle?: { readonly dir: string; readonly file: string };
  readonly agent: AgentInstall;
  readonly now: () => number;
  readonly log: (message: string) => void;
  /**
   * Sandboxes started at once. Every start runs bubblewrap and a Node agent; fifty at once on
   * two cores starve each other past the driver's start timeout, while a queue finishes them
   * all. Default: twice the CPU count, at least 2.
   */
  readonly maxConcurrentProvisioning?: number;
}

/** Runs at most `limit` tasks at once, the rest in arrival order. */
function createLimiter(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async function limited<T>(task: () => Promise<T>): Promise<T> {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

export interface LifecycleDeps {
  readonly store: GatewayStore;
  readonly driver: ComputeDriver;
  readonly events: EventHub;
  readonly proxy: ProxyHub;
  readonly supervisor: () => SupervisorHub;
}

export interface SandboxChange {
  readonly type: WatchEventType;
  readonly record: SandboxRecord;
}

export interface CreateInput {
  readonly name?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: StoredSandboxSpec;
  readonly policyYaml?: string;
  readonly policyFileName?: string;
}

/** Where a running sandbox's traffic comes from, for the proxy. */
interface RuntimeInfo {
  readonly sourceAddress: string;
  readonly netnsPid: number;
}

function toStoredExit(exit: ExitStatus): StoredExit {
  return {
    ...(exit.code === undefined ? {} : { code: exit.code }),
    ...(exit.signal === undefined ? {} : { signal: exit.signal }),
  };
}

/** Parses a policy text into a Policy or throws ERR_POLICY_INVALID listing the diagnostics. */
export function parsePolicyOrThrow(text: string, file: string): Policy {
  const result = parsePolicy(text, { file });
  if (result.policy === undefined) {
    const lines = result.diagnostics.map(formatDiagnostic).join('\n');
    throw new OpenShellError('ERR_POLICY_INVALID', `${file} is not a valid policy:\n${lines}`);
  }
  return result.policy;
}

/** The newest revision that may still be in force or become so (not Failed/Superseded). */
export function liveRevision(
  revisions: readonly PolicyRevisionRecord[],
): PolicyRevisionRecord | undefined {
  return revisions.find((r) => r.status === 'Pending' || r.status === 'Loaded');
}

/**
 * Sandboxes from creation to deletion: the record and its first revision, provisioning through
 * the compute driver, readiness (first policy acknowledged by proxy and agent), main-process
 * exits, deletion, and reattaching to sandboxes that outlived a gateway restart.
 */
export function createSandboxLifecycle(options: LifecycleOptions, deps: LifecycleDeps) {
  const { store, driver, events, proxy } = deps;
  const watch = new EventEmitter<{ change: [SandboxChange] }>();
  watch.setMaxListeners(0);
  const runtime = new Map<string, RuntimeInfo>();
  const counts = new Map<string, DecisionCounts>();
  const queues = new Map<string, Promise<unknown>>();
  const provisioning = createLimiter(
    options.maxConcurrentProvisioning ?? Math.max(2, cpus().length * 2),
  );

  /** Runs fn after every earlier mutation of the same sandbox (one writer per sandbox). */
  function serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const run = (queues.get(id) ?? Promise.resolve()).then(fn, fn);
    const settled = run.catch(() => undefined);
    queues.set(id, settled);
    void settled.then(() => {
      if (queues.get(id) === settled) queues.delete(id);
    });
    return run;
  }

  function emit(type: WatchEventType, record: SandboxRecord): void {
    watch.emit('change', { type, record });
  }

  function lifecycleEvent(
    record: SandboxRecord,
    kind: LifecycleEventKind,
    message: string,
    extra: { exit?: ExitStatus; policyVersion?: number } = {},
  ): void {
    events.lifecycle({
      timeMs: options.now(),
      sandboxId: record.id,
      sandboxName: record.name,
      kind,
      phase: toProtoPhase(record.phase),
      message,
      ...(extra.exit === undefined ? {} : { exit: extra.exit }),
      ...(extra.policyVersion === undefined ? {} : { policyVersion: extra.policyVersion }),
    });
  }

  /** Compare-and-swap update, re-reading on conflict; undefined when the sandbox is gone. */
  async function mutate(
    id: string,
    change: (record: SandboxRecord) => SandboxPatch | undefined,
  ): Promise<SandboxRecord | undefined> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const record = await store.getSandbox(id);
      if (record === undefined || record.id !== id) return undefined;
      const patch = change(record);
      if (patch === undefined) return record;
      try {
        const updated = await store.updateSandbox(id, record.resourceVersion, patch, options.now());
        emit(WatchEventType.WATCH_EVENT_TYPE_UPDATED, updated);
        return updated;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ERR_CONFLICT') throw error;
      }
    }
    throw new OpenShellError('ERR_CONFLICT', `sandbox ${id} kept changing; try again`);
  }

  async function credentialBindings(record: SandboxRecord): Promise<CredentialBinding[]> {
    const bindings: CredentialBinding[] = [];
    for (const name of record.spec.providers) {
      const provider = await store.getProvider(name);
      if (provider === undefined) continue;
      const secrets = await store.providerSecrets(name);
      for (const [envKey, value] of Object.entries(secrets)) {
        bindings.push({
          providerId: provider.id,
          providerName: provider.name,
          envKey,
          value,
          allowedHosts: [...provider.allowedHosts],
        });
      }
    }
    return bindings;
  }

  /** Placeholders for every credential of the sandbox's providers (never the values). */
  async function placeholderEnv(record: SandboxRecord): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const name of record.spec.providers) {
      const provider = await store.getProvider(name);
      for (const key of provider?.credentialKeys ?? []) env[key] = `openshell:resolve:env:${key}`;
    }
    return env;
  }

  async function proxyConfig(
    record: SandboxRecord,
    revision: PolicyRevisionRecord,
  ): Promise<SandboxConfig | undefined> {
    const info = runtime.get(record.id);
    if (info === undefined) return undefined;
    const policy = parsePolicyOrThrow(revision.yaml, `revision ${String(revision.version)}`);
    return {
      sandboxId: record.id,
      sandboxName: record.name,
      sourceAddresses: [info.sourceAddress],
      netnsPid: info.netnsPid,
      policyVersion: revision.version,
      policyHash: revision.hash,
      policyJson: canonicalPolicyJson(policy),
      credentials: await credentialBindings(record),
    };
  }

  /** Sends the sandbox's newest live revision to the proxy (if connected and the sandbox runs). */
  async function pushToProxy(
    record: SandboxRecord,
    revision?: PolicyRevisionRecord,
  ): Promise<void> {
    const target = revision ?? liveRevision(await store.listRevisions(record.id));
    if (target === undefined) return;
    const config = await proxyConfig(record, target);
    if (config !== undefined) proxy.upsert(config);
  }

  function pushToAgent(record: SandboxRecord, revision: PolicyRevisionRecord): void {
    deps.supervisor().pushPolicy(record.id, {
      version: revision.version,
      hash: revision.hash,
      yaml: revision.yaml,
    });
  }

  async function markError(id: string, reason: string, exit?: ExitStatus): Promise<void> {
    const updated = await mutate(id, (record) =>
      record.deleteRequested || record.phase === 'Error'
        ? undefined
        : {
            phase: 'Error',
            phaseReason: reason,
            ...(exit === undefined ? {} : { mainExit: toStoredExit(exit) }),
          },
    );
    if (updated?.phase === 'Error') {
      const kind =
        exit === undefined
          ? LifecycleEventKind.LIFECYCLE_EVENT_KIND_ERROR
          : LifecycleEventKind.LIFECYCLE_EVENT_KIND_PROCESS_EXITED;
      lifecycleEvent(updated, kind, reason, exit === undefined ? {} : { exit });
    }
  }

  function watchExit(id: string): void {
    driver.waitExit(id).then(
      async (exit) => {
        runtime.delete(id);
        // The agent's own last words (a bubblewrap or launcher refusal, a policy it could not
        // apply) say why far better than an exit code.
        const handle = await driver.get(id).catch(() => undefined);
        const tail = handle === undefined ? '' : await readLogTail(handle.logFile);
        await markError(
          id,
          `the sandbox stopped (its agent exited${exit.code === null ? '' : ` with code ${String(exit.code)}`})${tail === '' ? '' : `; its log ends:\n${tail}`}`,
        );
      },
      (error: unknown) => options.log(`waiting for sandbox ${id} failed: ${String(error)}`),
    );
  }

  function noteHandle(handle: SandboxHandle): void {
    runtime.set(handle.id, {
      sourceAddress: handle.network.sandboxAddress,
      netnsPid: handle.initPid,
    });
  }

  async function provision(record: SandboxRecord, policy: Policy, token: string): Promise<void> {
    const spec = record.spec;
    const limits = {
      ...(spec.memoryBytes === undefined ? {} : { memoryBytes: spec.memoryBytes }),
      ...(spec.pidsMax === undefined ? {} : { pids: spec.pidsMax }),
      ...(spec.cpuMillicores === undefined ? {} : { cpuMillis: spec.cpuMillicores }),
    };
    try {
      const started = await provisioning(() =>
        startSandboxRuntime({
          driver,
          id: record.id,
          policy,
          supervisor: {
            address: options.serviceAddress,
            port: options.supervisorPort,
            caDir: options.gatewayCaDir,
          },
          proxy: { address: options.serviceAddress, port: options.proxyPort },
          token,
          main: spec.command.length > 0 ? spec.command : IDLE_MAIN,
          agent: options.agent,
          ...(spec.from === undefined ? {} : { from: spec.from }),
          ...(Object.keys(limits).length === 0 ? {} : { limits }),
          ...(options.sandboxCaBundle === undefined ? {} : { caBundle: options.sandboxCaBundle }),
        }),
      );
      noteHandle(started.handle);
      watchExit(record.id);
      await pushToProxy(record);
    } catch (error) {
      options.log(`provisioning ${record.name} (${record.id}) failed: ${String(error)}`);
      await driver.delete(record.id).catch(() => false);
      await markError(record.id, `provisioning failed: ${(error as Error).message}`);
      return;
    }
    setTimeout(() => {
      void store.getSandbox(record.id).then(async (current) => {
        if (current?.phase !== 'Provisioning' || current.id !== record.id) return;
        const waiting = [
          deps.supervisor().isConnected(record.id) ? undefined : 'the agent to connect',
          proxy.isConnected() ? undefined : 'the egress proxy to connect',
        ].filter((x) => x !== undefined);
        await markError(
          record.id,
          `not ready after ${String(PROVISION_TIMEOUT_MS / 1000)} s (waited for ${waiting.join(' and ') || 'the first policy to load'}); see \`openshell logs ${record.name}\` and \`openshell gateway logs\``,
        );
      });
    }, PROVISION_TIMEOUT_MS).unref();
  }

  async function create(input: CreateInput): Promise<SandboxRecord> {
    const existing = await store.listSandboxes();
    const name = input.name ?? choosePetname(new Set(existing.map((s) => s.name)));
    if (!NAME_PATTERN.test(name)) {
      throw new OpenShellError(
        'ERR_USAGE',
        `sandbox name "${name}" is invalid: use 1–63 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      );
    }
    if (existing.some((s) => s.name === name)) {
      throw new OpenShellError(
        'ERR_SANDBOX_EXISTS',
        `a sandbox named "${name}" already exists; pick another --name or delete it with \`openshell sandbox delete ${name}\``,
      );
    }
    const policy =
      input.policyYaml === undefined
        ? DEFAULT_POLICY
        : parsePolicyOrThrow(input.policyYaml, input.policyFileName ?? 'policy.yaml');
    for (const provider of input.spec.providers) {
      if ((await store.getProvider(provider)) === undefined) {
        throw new OpenShellError(
          'ERR_PROVIDER_NOT_FOUND',
          `provider "${provider}" does not exist; create it with \`openshell provider create --name ${provider} --type TYPE ...\``,
        );
      }
    }
    const token = randomBytes(32).toString('hex');
    const now = options.now();
    const record = await store.createSandbox({
      id: randomBytes(4).toString('hex'),
      name,
      labels: input.labels,
      createdAtMs: now,
      phase: 'Provisioning',
      spec: input.spec,
      currentPolicyVersion: 0,
      deleteRequested: false,
      tokenSha256: sha256Hex(token),
    });
    await store.addRevision(record.id, {
      hash: hashPolicy(policy),
      yaml: policyToYaml(policy),
      createdAtMs: now,
    });
    emit(WatchEventType.WATCH_EVENT_TYPE_ADDED, record);
    lifecycleEvent(record, LifecycleEventKind.LIFECYCLE_EVENT_KIND_CREATED, 'sandbox created');
    void provision(record, policy, token);
    return record;
  }

  async function resolve(ref: string): Promise<SandboxRecord> {
    const record = await store.getSandbox(ref);
    if (record === undefined) {
      throw new OpenShellError(
        'ERR_SANDBOX_NOT_FOUND',
        `sandbox "${ref}" not found; \`openshell sandbox list\` shows the existing ones`,
      );
    }
    return record;
  }

  async function remove(ref: string): Promise<SandboxRecord> {
    const found = await resolve(ref);
    return serial(found.id, async () => {
      const marked =
        (await mutate(found.id, () => ({ deleteRequested: true, phase: 'Deleting' }))) ?? found;
      lifecycleEvent(marked, LifecycleEventKind.LIFECYCLE_EVENT_KIND_DELETED, 'deletion requested');
      // The driver kills the whole process tree and frees every host object; no grace period
      // is owed to a sandbox whose user asked for deletion.
      await driver.delete(found.id);
      runtime.delete(found.id);
      proxy.remove(found.id);
      await store.deleteSandbox(found.id);
      counts.delete(found.id);
      emit(WatchEventType.WATCH_EVENT_TYPE_DELETED, marked);
      lifecycleEvent(marked, LifecycleEventKind.LIFECYCLE_EVENT_KIND_DELETED, 'sandbox deleted');
      return marked;
    });
  }

  async function answerHello(
    sandboxId: string,
    hello: AgentHello,
  ): Promise<{ push?: PolicyPush; spec?: ProcessSpec }> {
    const record = await resolve(sandboxId);
    const revision = liveRevision(await store.listRevisions(sandboxId));
    const push =
      revision === undefined
        ? undefined
        : { version: revision.version, hash: revision.hash, yaml: revision.yaml };
    if (hello.probe !== undefined && hello.probe.unenforced.length > 0) {
      lifecycleEvent(
        record,
        LifecycleEventKind.LIFECYCLE_EVENT_KIND_ENFORCEMENT_DEGRADED,
        `not enforced on this host: ${hello.probe.unenforced.join('; ')}`,
      );
    }
    if (hello.mainPid !== undefined || record.mainExit !== undefined) {
      return push === undefined ? {} : { push };
    }
    const command = record.spec.command.length > 0 ? record.spec.command : IDLE_MAIN;
    const spec: ProcessSpec = {
      argv: [...command],
      env: { ...(await placeholderEnv(record)), ...record.spec.env },
      workdir: '',
      tty: false,
      user: '',
      group: '',
    };
    return push === undefined ? { spec } : { push, spec };
  }

  async function mainExited(sandboxId: string, exit: ExitStatus): Promise<void> {
    const record = await store.getSandbox(sandboxId);
    if (record === undefined || record.deleteRequested) return;
    if (record.spec.deleteOnExit) {
      await remove(sandboxId).catch((error: unknown) =>
        options.log(`deleting ${sandboxId} after its main process ended failed: ${String(error)}`),
      );
      return;
    }
    const how =
      exit.signal !== undefined
        ? `was killed by ${exit.signal}`
        : `exited with code ${String(exit.code ?? -1)}`;
    await serial(sandboxId, () => markError(sandboxId, `the main process ${how}`, exit));
  }

  /** After a gateway restart: adopt running sandboxes, settle the ones that vanished. */
  async function reattach(): Promise<void> {
    for (const record of await store.listSandboxes()) {
      if (record.deleteRequested) {
        await remove(record.id).catch((error: unknown) =>
          options.log(`finishing deletion of ${record.id} failed: ${String(error)}`),
        );
        continue;
      }
      const handle = await driver.get(record.id);
      if (handle?.state === 'running') {
        noteHandle(handle);
        watchExit(record.id);
        continue;
      }
      if (handle !== undefined) await driver.delete(record.id).catch(() => false);
      await markError(
        record.id,
        'the sandbox was not running when the gateway started (host restart or killed)',
      );
    }
  }

  const changedCounts = new Set<string>();
  let countsTimer: NodeJS.Timeout | undefined;

  /**
   * Counts a decision. Watchers hear about new counts at most once a second per sandbox
   * (proto: "coalesced"), so a chatty agent does not turn every request into a watch event.
   */
  function countDecision(sandboxId: string, action: 'allowed' | 'denied' | 'audited'): void {
    const current = counts.get(sandboxId) ?? { allowed: 0, denied: 0, audited: 0 };
    counts.set(sandboxId, { ...current, [action]: current[action] + 1 });
    changedCounts.add(sandboxId);
    countsTimer ??= setTimeout(() => {
      countsTimer = undefined;
      const ids = [...changedCounts];
      changedCounts.clear();
      void Promise.all(
        ids.map(async (id) => {
          const record = await store.getSandbox(id);
          if (record?.id === id && !record.deleteRequested) {
            emit(WatchEventType.WATCH_EVENT_TYPE_UPDATED, record);
          }
        }),
      ).catch((error: unknown) => options.log(`publishing decision counts: ${String(error)}`));
    }, COUNTS_COALESCE_MS);
    countsTimer.unref();
  }

  async function fullProxySet(): Promise<SandboxConfig[]> {
    const configs: SandboxConfig[] = [];
    for (const record of await store.listSandboxes()) {
      if (record.deleteRequested) continue;
      const revision = liveRevision(await store.listRevisions(record.id));
      if (revision === undefined) continue;
      const config = await proxyConfig(record, revision).catch(() => undefined);
      if (config !== undefined) configs.push(config);
    }
    return configs;
  }

  return {
    watch,
    serial,
    mutate,
    resolve,
    create,
    remove,
    answerHello,
    mainExited,
    reattach,
    pushToProxy,
    pushToAgent,
    fullProxySet,
    placeholderEnv,
    countDecision,
    countsOf: (id: string) => counts.get(id),
    isRunning: (id: string) => runtime.has(id),
    lifecycleEvent,
  };
}

export type SandboxLifecycle = ReturnType<typeof createSandboxLifecycle>;
