import { chmod, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalPolicyJson } from '@openshell/policy-schema';
import type { CredentialBindingShape } from '../credentials/credential-bindings.js';
import type { SandboxState } from './sandbox-registry.js';

/** One sandbox as written to `<stateDir>/sandboxes/<id>.json`. Never contains secret values. */
export interface PersistedSandbox {
  readonly id: string;
  readonly version: number;
  readonly sourceAddresses: readonly string[];
  /** canonicalPolicyJson of the active policy; re-validated on load. */
  readonly policy: string;
  readonly credentialBindings: readonly CredentialBindingShape[];
  readonly netnsPid?: number;
}

/**
 * Last known policies on disk, so that a restarted proxy keeps enforcing before the
 * gateway reconnects (without them it would deny everything, which is safe but breaks
 * running sandboxes). Secrets are not persisted: after a restart a placeholder to its
 * bound host gets 503 credential_unavailable until the gateway re-sends the values.
 */
export interface PolicyStore {
  save(state: SandboxState): Promise<void>;
  remove(id: string): Promise<void>;
  loadAll(): Promise<{ sandboxes: PersistedSandbox[]; errors: string[] }>;
}

function fileName(id: string): string {
  return `${encodeURIComponent(id)}.json`;
}

/** Creates the store under `<stateDir>/sandboxes` (directory 0700, files 0600). */
export function createPolicyStore(stateDir: string): PolicyStore {
  const dir = join(stateDir, 'sandboxes');
  // Writes for one sandbox are chained so an older version can never land after a newer one.
  const chains = new Map<string, Promise<void>>();

  function enqueue(id: string, work: () => Promise<void>): Promise<void> {
    const next = (chains.get(id) ?? Promise.resolve()).then(work, work);
    chains.set(id, next);
    return next;
  }

  return {
    save(state) {
      const record: PersistedSandbox = {
        id: state.id,
        version: state.version,
        sourceAddresses: state.sourceAddresses,
        policy: canonicalPolicyJson(state.policy),
        credentialBindings: state.credentials.shapes,
        ...(state.netnsPid === undefined ? {} : { netnsPid: state.netnsPid }),
      };
      return enqueue(state.id, async () => {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const path = join(dir, fileName(state.id));
        const tmp = `${path}.${process.pid}.tmp`;
        await writeFile(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
        await chmod(tmp, 0o600);
        await rename(tmp, path);
      });
    },
    remove(id) {
      return enqueue(id, () => rm(join(dir, fileName(id)), { force: true }));
    },
    async loadAll() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ENOENT') return { sandboxes: [], errors: [] };
        throw error;
      }
      const sandboxes: PersistedSandbox[] = [];
      const errors: string[] = [];
      for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
        try {
          sandboxes.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as PersistedSandbox);
        } catch (error) {
          errors.push(`${join(dir, name)}: ${String(error)}`);
        }
      }
      return { sandboxes, errors };
    },
  };
}
