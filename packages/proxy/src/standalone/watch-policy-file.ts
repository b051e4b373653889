import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { formatDiagnostic, parsePolicy, type Policy } from '@openshell/policy-schema';
import type { PolicyAck } from '../sandbox/sandbox-control.js';

export interface PolicyFileWatcherOptions {
  readonly path: string;
  /** Applies a valid policy (e.g. `proxy.setSandbox` for the standalone sandbox). */
  readonly apply: (policy: Policy) => Promise<PolicyAck>;
  readonly warn: (message: string) => void;
  /** Coalesces the bursts of events an editor's save produces. Default 50 ms. */
  readonly debounceMs?: number;
}

export interface PolicyFileWatcher {
  /** Reads and applies the file now; resolves with the ack, or null when the file was invalid or unchanged. */
  reload(): Promise<PolicyAck | null>;
  close(): void;
}

/**
 * Standalone mode: the policy comes from a file that is re-read on every change. The
 * directory is watched, not the file, because editors save by writing a new file and
 * renaming it over the old one (the old inode's watch would go silent). An invalid
 * version is reported with its file:line:col diagnostics and the last good policy stays.
 *
 * @example
 * const watcher = watchPolicyFile({ path: 'policy.yaml', apply: (p) => proxy.setSandbox({ ...cfg, policy: p }), warn });
 * await watcher.reload();
 */
export function watchPolicyFile(options: PolicyFileWatcherOptions): PolicyFileWatcher {
  let lastHash: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<PolicyAck | null> = Promise.resolve(null);

  async function load(): Promise<PolicyAck | null> {
    let text: string;
    try {
      text = await readFile(options.path, 'utf8');
    } catch (error) {
      options.warn(
        `cannot read policy file ${options.path} (${String(error)}); keeping the last good policy`,
      );
      return null;
    }
    const hash = createHash('sha256').update(text).digest('hex');
    if (hash === lastHash) return null;
    const parsed = parsePolicy(text, { file: options.path });
    if (!parsed.policy) {
      const lines = parsed.diagnostics
        .filter((d) => d.severity === 'error')
        .map((d) => formatDiagnostic(d));
      options.warn(
        `policy file ${options.path} is invalid; keeping the last good policy:\n  ${lines.join('\n  ')}`,
      );
      return null;
    }
    lastHash = hash;
    const ack = await options.apply(parsed.policy);
    if (!ack.ok)
      options.warn(`policy file ${options.path} was not applied: ${ack.error ?? 'unknown error'}`);
    return ack;
  }

  // Loads run one after another so an older read can never be applied after a newer one.
  const reload = (): Promise<PolicyAck | null> => {
    chain = chain.then(load, load);
    return chain;
  };

  const name = basename(options.path);
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dirname(options.path), (_event, file) => {
      if (file !== null && file !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        reload().catch((error: unknown) => options.warn(`policy reload failed: ${String(error)}`));
      }, options.debounceMs ?? 50);
    });
    watcher.on('error', (error) =>
      options.warn(`watching ${options.path} failed: ${String(error)}`),
    );
  } catch (error) {
    options.warn(`cannot watch ${options.path} (${String(error)}); changes will not be picked up`);
  }

  return {
    reload,
    close() {
      if (timer) clearTimeout(timer);
      watcher?.close();
    },
  };
}
