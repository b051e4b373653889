import { OpenShellError, diffStatic, hashPolicy, policyToYaml } from '@openshell/policy-schema';
import {
  LifecycleEventKind,
  type PolicyAck,
  type PolicyOperation,
  type PolicyRevision,
} from '@openshell/proto';
import type { GatewayStore, PolicyRevisionRecord, SandboxRecord } from '../store/gateway-store.js';
import { applyPolicyOperations } from './policy-ops.js';
import { liveRevision, parsePolicyOrThrow, type SandboxLifecycle } from './sandbox-lifecycle.js';
import { toProtoRevision } from './to-proto.js';

const DEFAULT_WAIT_MS = 60_000;

export interface RevisionOutcome {
  readonly revision: PolicyRevision;
  readonly unchanged: boolean;
  readonly waitTimedOut: boolean;
  readonly yaml: string;
}

/**
 * Policy revisions of live sandboxes: validation against the static sections, storage (an
 * identical body keeps its version), pushes to proxy and agent over their streams, and the
 * acknowledgements that move a revision to Loaded (both acked) or Failed (either refused).
 * `--wait` is served by waiting on those acks, never by polling.
 */
export function createPolicyRevisions(deps: {
  readonly store: GatewayStore;
  readonly lifecycle: SandboxLifecycle;
  readonly now: () => number;
}) {
  const { store, lifecycle, now } = deps;
  const waiters = new Map<string, Set<() => void>>();

  function wake(sandboxId: string, version: number): void {
    for (const waiter of waiters.get(`${sandboxId}:${String(version)}`) ?? []) waiter();
  }

  /** Resolves when the revision leaves Pending, or with timedOut after timeoutMs. */
  async function waitFor(
    sandboxId: string,
    version: number,
    timeoutMs: number,
  ): Promise<{ revision: PolicyRevisionRecord; timedOut: boolean }> {
    const key = `${sandboxId}:${String(version)}`;
    return new Promise((resolve, reject) => {
      const set = waiters.get(key) ?? new Set<() => void>();
      waiters.set(key, set);
      const finish = (timedOut: boolean): void => {
        set.delete(check);
        if (set.size === 0) waiters.delete(key);
        clearTimeout(timer);
        store.getRevision(sandboxId, version).then((revision) => {
          if (revision === undefined) {
            reject(
              new OpenShellError(
                'ERR_SANDBOX_NOT_FOUND',
                `sandbox ${sandboxId} was deleted while waiting for its policy`,
              ),
            );
          } else resolve({ revision, timedOut: timedOut && revision.status === 'Pending' });
        }, reject);
      };
      const check = (): void => {
        void store.getRevision(sandboxId, version).then((revision) => {
          if (revision?.status !== 'Pending') finish(false);
        });
      };
      const timer = setTimeout(() => finish(true), timeoutMs);
      set.add(check);
      check();
    });
  }

  async function activeRevision(record: SandboxRecord): Promise<PolicyRevisionRecord> {
    const revisions = await store.listRevisions(record.id);
    const active =
      revisions.find((r) => r.version === record.currentPolicyVersion) ?? liveRevision(revisions);
    if (active === undefined) {
      throw new OpenShellError('ERR_INTERNAL', `sandbox ${record.name} has no policy revision`);
    }
    return active;
  }

  function assertWritable(record: SandboxRecord): void {
    if (record.phase === 'Deleting' || record.deleteRequested) {
      throw new OpenShellError('ERR_SANDBOX_NOT_READY', `sandbox ${record.name} is being deleted`);
    }
  }

  /** Validates, stores and pushes a new body; shared by set and update. Runs serialised. */
  async function storeAndPush(
    record: SandboxRecord,
    text: string,
    file: string,
  ): Promise<{ revision: PolicyRevisionRecord; created: boolean; yaml: string }> {
    assertWritable(record);
    const next = parsePolicyOrThrow(text, file);
    const active = await activeRevision(record);
    const current = parsePolicyOrThrow(active.yaml, `revision ${String(active.version)}`);
    const changes = diffStatic(current, next);
    if (changes.length > 0) {
      throw new OpenShellError(
        'ERR_POLICY_STATIC_CHANGE',
        changes.map((change) => change.message).join('\n'),
      );
    }
    const yaml = policyToYaml(next);
    const { revision, created } = await store.addRevision(record.id, {
      hash: hashPolicy(next),
      yaml,
      createdAtMs: now(),
    });
    if (created) {
      await lifecycle.pushToProxy(record, revision);
      lifecycle.pushToAgent(record, revision);
    }
    return { revision, created, yaml };
  }

  /**
   * Stores and pushes under the sandbox's lock, then (outside it: acks take the same lock)
   * waits for the acks when asked.
   */
  async function apply(
    record: SandboxRecord,
    text: string,
    file: string,
    wait: boolean,
    timeoutMs: number | undefined,
  ): Promise<RevisionOutcome> {
    const stored = await lifecycle.serial(record.id, () => storeAndPush(record, text, file));
    let final = stored.revision;
    let waitTimedOut = false;
    if (wait && final.status === 'Pending') {
      const waited = await waitFor(record.id, final.version, timeoutMs ?? DEFAULT_WAIT_MS);
      final = waited.revision;
      waitTimedOut = waited.timedOut;
    }
    return {
      revision: toProtoRevision(final),
      unchanged: !stored.created,
      waitTimedOut,
      yaml: stored.yaml,
    };
  }

  async function onAck(source: 'proxy' | 'agent', ack: PolicyAck): Promise<void> {
    const sandboxId = ack.sandboxId;
    await lifecycle.serial(sandboxId, async () => {
      const revision = await store.getRevision(sandboxId, ack.version);
      if (revision === undefined) return;
      if (ack.hash !== '' && ack.hash !== revision.hash) return;
      const at = now();
      const record = await store.getSandbox(sandboxId);
      if (record === undefined) return;
      if (!ack.ok) {
        if (revision.status === 'Failed') return;
        const updated = await store.updateRevision(sandboxId, ack.version, {
          status: 'Failed',
          error: `${source}: ${ack.error ?? 'refused without a reason'}`,
        });
        lifecycle.lifecycleEvent(
          record,
          LifecycleEventKind.LIFECYCLE_EVENT_KIND_POLICY_FAILED,
          updated.error ?? 'policy failed',
          { policyVersion: ack.version },
        );
        if (record.phase === 'Provisioning') {
          await lifecycle.mutate(sandboxId, () => ({
            phase: 'Error',
            phaseReason: `the first policy could not be loaded: ${updated.error ?? ''}`,
          }));
        }
        wake(sandboxId, ack.version);
        return;
      }
      const field = source === 'proxy' ? 'proxyAckedAtMs' : 'agentAckedAtMs';
      if (revision[field] !== undefined && revision.status !== 'Pending') return;
      const updated = await store.updateRevision(sandboxId, ack.version, { [field]: at });
      const both = updated.proxyAckedAtMs !== undefined && updated.agentAckedAtMs !== undefined;
      if (both && updated.status === 'Pending') {
        await store.updateRevision(sandboxId, ack.version, {
          status: 'Loaded',
          loadedAtMs: at,
        });
        const ready = await lifecycle.mutate(sandboxId, (current) => ({
          ...(current.currentPolicyVersion < ack.version
            ? { currentPolicyVersion: ack.version }
            : {}),
          ...(current.phase === 'Provisioning' ? { phase: 'Ready' as const } : {}),
        }));
        if (ready !== undefined) {
          lifecycle.lifecycleEvent(
            ready,
            LifecycleEventKind.LIFECYCLE_EVENT_KIND_POLICY_LOADED,
            `policy version ${String(ack.version)} loaded`,
            { policyVersion: ack.version },
          );
          if (record.phase === 'Provisioning' && ready.phase === 'Ready') {
            lifecycle.lifecycleEvent(
              ready,
              LifecycleEventKind.LIFECYCLE_EVENT_KIND_READY,
              'sandbox ready',
            );
          }
        }
        wake(sandboxId, ack.version);
      }
    });
  }

  return {
    onAck,
    async get(ref: string, version?: number) {
      const record = await lifecycle.resolve(ref);
      const revision =
        version === undefined
          ? await activeRevision(record)
          : await store.getRevision(record.id, version);
      if (revision === undefined) {
        throw new OpenShellError(
          'ERR_USAGE',
          `sandbox ${record.name} has no policy revision ${String(version)}; \`openshell policy list ${record.name}\` shows them`,
        );
      }
      return {
        revision: toProtoRevision(revision),
        activeVersion: record.currentPolicyVersion,
        yaml: revision.yaml,
      };
    },
    async list(ref: string, limit?: number) {
      const record = await lifecycle.resolve(ref);
      const revisions = await store.listRevisions(record.id, limit);
      return {
        revisions: revisions.map(toProtoRevision),
        activeVersion: record.currentPolicyVersion,
      };
    },
    async set(ref: string, yaml: string, file: string, wait: boolean, timeoutMs?: number) {
      const record = await lifecycle.resolve(ref);
      return apply(record, yaml, file, wait, timeoutMs);
    },
    async update(
      ref: string,
      operations: readonly PolicyOperation[],
      dryRun: boolean,
      wait: boolean,
      timeoutMs?: number,
    ): Promise<RevisionOutcome> {
      const record = await lifecycle.resolve(ref);
      assertWritable(record);
      const active = await activeRevision(record);
      const base = parsePolicyOrThrow(active.yaml, `revision ${String(active.version)}`);
      const text = applyPolicyOperations(base, operations);
      if (dryRun) {
        const next = parsePolicyOrThrow(text, 'policy update');
        return {
          revision: { version: 0, hash: hashPolicy(next), status: 0, createdAtMs: now() },
          unchanged: hashPolicy(next) === active.hash,
          waitTimedOut: false,
          yaml: policyToYaml(next),
        };
      }
      return apply(record, text, 'policy update', wait, timeoutMs);
    },
    async wait(ref: string, version: number, timeoutMs?: number) {
      const record = await lifecycle.resolve(ref);
      if ((await store.getRevision(record.id, version)) === undefined) {
        throw new OpenShellError(
          'ERR_USAGE',
          `sandbox ${record.name} has no policy revision ${String(version)}`,
        );
      }
      const waited = await waitFor(record.id, version, timeoutMs ?? DEFAULT_WAIT_MS);
      return { revision: toProtoRevision(waited.revision), timedOut: waited.timedOut };
    },
  };
}

export type PolicyRevisions = ReturnType<typeof createPolicyRevisions>;
