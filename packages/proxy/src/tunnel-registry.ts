import type { CallerIdentity } from './caller/caller-resolver.js';

/** One open CONNECT tunnel, counted against its sandbox's limit. */
export interface Tunnel {
  readonly sandboxId: string;
  readonly host: string;
  readonly port: number;
  /** Null only for inference tunnels, which need no caller identity. */
  readonly caller: CallerIdentity | null;
  /**
   * `raw`: opaque bytes, judged only at L4, so a reload must re-check it. `inference`:
   * served by the proxy itself (inference.local); every request is decided on its own.
   */
  readonly kind: 'raw' | 'intercepted' | 'inference';
  /** Closes both legs. */
  close(): void;
}

export interface TunnelRegistry {
  /** Registers a tunnel; the returned function unregisters it (idempotent). */
  add(tunnel: Tunnel): () => void;
  count(sandboxId: string): number;
  forSandbox(sandboxId: string): readonly Tunnel[];
  all(): readonly Tunnel[];
}

/** Tracks open tunnels per sandbox (tunnel cap, reload re-checks, sandbox removal). */
export function createTunnelRegistry(
  onChange: (sandboxId: string, count: number) => void,
): TunnelRegistry {
  const bySandbox = new Map<string, Set<Tunnel>>();
  return {
    add(tunnel) {
      let set = bySandbox.get(tunnel.sandboxId);
      if (!set) {
        set = new Set();
        bySandbox.set(tunnel.sandboxId, set);
      }
      set.add(tunnel);
      onChange(tunnel.sandboxId, set.size);
      let removed = false;
      return () => {
        if (removed) return;
        removed = true;
        const current = bySandbox.get(tunnel.sandboxId);
        if (!current) return;
        current.delete(tunnel);
        onChange(tunnel.sandboxId, current.size);
        if (current.size === 0) bySandbox.delete(tunnel.sandboxId);
      };
    },
    count(sandboxId) {
      return bySandbox.get(sandboxId)?.size ?? 0;
    },
    forSandbox(sandboxId) {
      return [...(bySandbox.get(sandboxId) ?? [])];
    },
    all() {
      return [...bySandbox.values()].flatMap((s) => [...s]);
    },
  };
}
