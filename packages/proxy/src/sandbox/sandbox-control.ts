import { decide, toOpenShellError } from '@openshell/policy-schema';
import { bindingsFromShapes } from '../credentials/credential-bindings.js';
import type { DecisionRecorder } from '../events/decision-recorder.js';
import type { Metrics } from '../events/metrics.js';
import type { TunnelRegistry } from '../tunnel-registry.js';
import type { PolicyStore } from './policy-store.js';
import type { SandboxConfig, SandboxRegistry, SandboxState } from './sandbox-registry.js';

/** The answer to one policy push: the gateway marks the revision Loaded or Failed from it. */
export interface PolicyAck {
  readonly sandbox: string;
  readonly version: number;
  readonly ok: boolean;
  readonly error?: string;
}

export interface SandboxControl {
  setSandbox(config: SandboxConfig): Promise<PolicyAck>;
  removeSandbox(id: string): Promise<boolean>;
  /** Re-applies the policies persisted by a previous run; returns one ack per sandbox. */
  restore(): Promise<PolicyAck[]>;
}

export interface SandboxControlDeps {
  readonly registry: SandboxRegistry;
  readonly tunnels: TunnelRegistry;
  readonly store: PolicyStore;
  readonly recorder: DecisionRecorder;
  readonly metrics: Metrics;
  readonly onAck: (ack: PolicyAck) => void;
  readonly warn: (message: string) => void;
}

/**
 * Applies policy pushes. The swap is synchronous, so the next connection, and the next
 * request on a kept-alive connection, already see the new policy; raw tunnels (judged
 * only at L4, invisible afterwards) are re-decided at once and closed if now denied.
 */
export function createSandboxControl(deps: SandboxControlDeps): SandboxControl {
  function closeDisallowedTunnels(state: SandboxState): void {
    for (const tunnel of deps.tunnels.forSandbox(state.id)) {
      if (tunnel.kind !== 'raw' || !tunnel.caller) continue;
      const decision = decide(state.compiled, {
        host: tunnel.host,
        port: tunnel.port,
        binary: tunnel.caller.exe,
        ancestors: tunnel.caller.ancestors,
      });
      if (decision.action !== 'deny') continue;
      deps.recorder.record({
        sandboxId: state.id,
        policyVersion: state.version,
        caller: tunnel.caller,
        host: tunnel.host,
        port: tunnel.port,
        method: 'CONNECT',
        decision,
        action: 'deny',
        outcome: 'tunnel_closed_by_reload',
        reason: `open tunnel closed: policy version ${state.version} no longer allows it (${decision.reason})`,
      });
      tunnel.close();
    }
  }

  function acknowledge(ack: PolicyAck): PolicyAck {
    deps.metrics.inc('openshell_proxy_policy_applies_total', { result: ack.ok ? 'ok' : 'error' });
    try {
      deps.onAck(ack);
    } catch (error) {
      deps.warn(`policy ack listener failed: ${String(error)}`);
    }
    return ack;
  }

  function applyNow(config: SandboxConfig): { state: SandboxState } | { ack: PolicyAck } {
    try {
      return { state: deps.registry.apply(config) };
    } catch (error) {
      const e = toOpenShellError(error);
      return {
        ack: acknowledge({
          sandbox: config.id,
          version: config.version,
          ok: false,
          error: e.message,
        }),
      };
    }
  }

  return {
    async setSandbox(config) {
      const applied = applyNow(config);
      if ('ack' in applied) return applied.ack;
      closeDisallowedTunnels(applied.state);
      try {
        await deps.store.save(applied.state);
      } catch (error) {
        // The policy is enforced in memory; only a restart before the next push would lose it.
        deps.warn(
          `sandbox ${config.id}: policy version ${config.version} applied but not persisted: ${String(error)}`,
        );
      }
      return acknowledge({ sandbox: config.id, version: config.version, ok: true });
    },
    async removeSandbox(id) {
      const removed = deps.registry.remove(id);
      for (const tunnel of deps.tunnels.forSandbox(id)) tunnel.close();
      await deps.store.remove(id);
      return removed !== undefined;
    },
    async restore() {
      const { sandboxes, errors } = await deps.store.loadAll();
      for (const error of errors) deps.warn(`ignoring unreadable persisted policy ${error}`);
      const acks: PolicyAck[] = [];
      for (const saved of sandboxes) {
        // Re-validated by loadPolicy: a hand-edited or truncated file never becomes a policy unchecked.
        const applied = applyNow({
          id: saved.id,
          version: saved.version,
          sourceAddresses: saved.sourceAddresses,
          policy: saved.policy,
          credentialBindings: bindingsFromShapes(saved.credentialBindings),
          ...(saved.netnsPid === undefined ? {} : { netnsPid: saved.netnsPid }),
        });
        if ('ack' in applied) {
          deps.warn(`persisted policy of sandbox ${saved.id} rejected: ${applied.ack.error ?? ''}`);
          acks.push(applied.ack);
        } else {
          acks.push(acknowledge({ sandbox: saved.id, version: saved.version, ok: true }));
        }
      }
      return acks;
    },
  };
}
