import { toOpenShellError } from '@openshell/policy-schema';
import type {
  ControlResponse,
  PolicyAck as WirePolicyAck,
  SandboxConfig as WireSandboxConfig,
} from '@openshell/proto';
import type { Proxy } from '../create-proxy.js';
import { toInferenceRoutes } from './to-inference-routes.js';
import { summariseSandbox, type SandboxSummary } from './to-proto-decision.js';
import { toSandboxConfig } from './to-sandbox-config.js';

/** Applies gateway pushes to a proxy and answers each sandbox config with an ack. */
export interface ControlApplier {
  /** Applies one message; resolves with the acks to send (none for removals and routes). */
  apply(message: ControlResponse): Promise<WirePolicyAck[]>;
  /** Names and policy index of a sandbox applied from the gateway, for decision events. */
  summary(sandboxId: string): SandboxSummary | undefined;
}

/**
 * @example
 * const applier = createControlApplier(proxy, warn);
 * const acks = await applier.apply({ payload: { $case: 'upsert', value: config } });
 */
export function createControlApplier(
  proxy: Proxy,
  warn: (message: string) => void,
): ControlApplier {
  // Sandboxes the proxy holds: restored from its state dir, then whatever the gateway sent.
  // A full set drops the rest, including restored ones the gateway no longer knows.
  const known = new Set(proxy.restored.map((a) => a.sandbox));
  const summaries = new Map<string, SandboxSummary>();

  /** `settled` is false when the proxy itself refused: only those may succeed on a retry. */
  async function applyOne(
    wire: WireSandboxConfig,
  ): Promise<{ ack: WirePolicyAck; settled: boolean }> {
    const failed = (error: unknown): WirePolicyAck => ({
      sandboxId: wire.sandboxId,
      version: wire.policyVersion,
      hash: wire.policyHash,
      ok: false,
      error: toOpenShellError(error).message,
    });
    let decoded;
    try {
      decoded = toSandboxConfig(wire);
    } catch (error) {
      return { ack: failed(error), settled: true };
    }
    const ack = await proxy.setSandbox(decoded.config);
    if (!ack.ok) {
      return { ack: failed(new Error(ack.error ?? 'rejected by the proxy')), settled: false };
    }
    known.add(wire.sandboxId);
    summaries.set(wire.sandboxId, summariseSandbox(decoded.name, decoded.policy));
    return {
      ack: { sandboxId: wire.sandboxId, version: wire.policyVersion, hash: decoded.hash, ok: true },
      settled: true,
    };
  }

  async function remove(id: string): Promise<void> {
    await proxy.removeSandbox(id);
    known.delete(id);
    summaries.delete(id);
  }

  async function applySet(sandboxes: readonly WireSandboxConfig[]): Promise<WirePolicyAck[]> {
    const wanted = new Set(sandboxes.map((s) => s.sandboxId));
    // Removals first, so an address freed by a dropped sandbox can go to a new one.
    for (const id of [...known]) if (!wanted.has(id)) await remove(id);
    const results = new Map<WireSandboxConfig, { ack: WirePolicyAck; settled: boolean }>();
    for (const s of sandboxes) results.set(s, await applyOne(s));
    // A second pass for the proxy's refusals: two sandboxes swapping source addresses
    // collide in whichever order they come, and succeed once the other one has moved.
    const retry = sandboxes.filter((s) => results.get(s)?.settled === false);
    if (retry.length > 0 && retry.length < sandboxes.length) {
      for (const s of retry) results.set(s, await applyOne(s));
    }
    return sandboxes.flatMap((s) => {
      const result = results.get(s);
      return result ? [result.ack] : [];
    });
  }

  return {
    async apply(message) {
      const payload = message.payload;
      switch (payload?.$case) {
        case 'sandboxSet':
          return applySet(payload.value.sandboxes);
        case 'upsert':
          return [(await applyOne(payload.value)).ack];
        case 'remove':
          await remove(payload.value.sandboxId);
          return [];
        case 'inferenceRoutes':
          try {
            proxy.setInferenceRoutes(toInferenceRoutes(payload.value.routes));
          } catch (error) {
            // There is no ack for routes: the previous set stays, and the operator sees why here.
            warn(
              `inference routes from the gateway not applied: ${toOpenShellError(error).message}`,
            );
          }
          return [];
        case undefined:
          warn('ignoring an empty control message from the gateway');
          return [];
      }
    },
    summary: (id) => summaries.get(id),
  };
}
