import { toCanonicalJson } from './hash-policy.js';
import type { Policy } from './types.js';

export interface StaticChange {
  readonly section: 'filesystem_policy' | 'landlock' | 'process';
  /** Dotted field, e.g. `filesystem_policy.read_only`. */
  readonly path: string;
  /** What changed and that the sandbox must be recreated. */
  readonly message: string;
}

export interface NetworkPolicyDiff {
  /** Ids only in the new policy, sorted. */
  readonly added: readonly string[];
  /** Ids only in the old policy, sorted. */
  readonly removed: readonly string[];
  /** Ids in both whose rule differs, sorted. */
  readonly changed: readonly string[];
}

const RECREATE: Readonly<Record<StaticChange['section'], string>> = {
  filesystem_policy:
    'filesystem_policy cannot be changed on a live sandbox (applied at creation); recreate the sandbox',
  landlock:
    'landlock policy cannot be changed on a live sandbox (applied at creation); recreate the sandbox',
  process:
    'process policy cannot be changed on a live sandbox (applied at creation); recreate the sandbox',
};

/**
 * Every difference in the static sections, each naming its field. Static sections are
 * enforced once, when the sandbox starts (mounts, Landlock, uid), so any difference —
 * adding a path too, unlike OpenShell — would be a silent no-op if accepted.
 */
export function diffStatic(old: Policy, next: Policy): StaticChange[] {
  const changes: StaticChange[] = [];
  const add = (section: StaticChange['section'], field: string, what: string): void => {
    const path = `${section}.${field}`;
    changes.push({ section, path, message: `${path}: ${what} — ${RECREATE[section]}` });
  };
  const oldFs = old.filesystem_policy;
  const newFs = next.filesystem_policy;
  if (oldFs.include_workdir !== newFs.include_workdir) {
    add(
      'filesystem_policy',
      'include_workdir',
      `${oldFs.include_workdir} → ${newFs.include_workdir}`,
    );
  }
  for (const list of ['read_only', 'read_write'] as const) {
    const before = oldFs[list];
    const after = newFs[list];
    const removed = before.filter((path) => !after.includes(path));
    const added = after.filter((path) => !before.includes(path));
    for (const path of removed) add('filesystem_policy', list, `removed ${JSON.stringify(path)}`);
    for (const path of added) add('filesystem_policy', list, `added ${JSON.stringify(path)}`);
    if (removed.length === 0 && added.length === 0 && before.join('\n') !== after.join('\n')) {
      add('filesystem_policy', list, 'order changed');
    }
  }
  if (old.landlock.compatibility !== next.landlock.compatibility) {
    add(
      'landlock',
      'compatibility',
      `${JSON.stringify(old.landlock.compatibility)} → ${JSON.stringify(next.landlock.compatibility)}`,
    );
  }
  for (const field of ['run_as_user', 'run_as_group'] as const) {
    if (old.process[field] !== next.process[field]) {
      add(
        'process',
        field,
        `${JSON.stringify(old.process[field])} → ${JSON.stringify(next.process[field])}`,
      );
    }
  }
  return changes;
}

/** Which network policy ids a replacement adds, removes or changes (the CLI confirms removals). */
export function diffNetworkPolicies(old: Policy, next: Policy): NetworkPolicyDiff {
  const before = old.network_policies;
  const after = next.network_policies;
  const oldIds = Object.keys(before);
  const newIds = Object.keys(after);
  return {
    added: newIds.filter((id) => !Object.hasOwn(before, id)).sort(),
    removed: oldIds.filter((id) => !Object.hasOwn(after, id)).sort(),
    changed: newIds
      .filter((id) => {
        const a = before[id];
        const b = after[id];
        return (
          a !== undefined &&
          b !== undefined &&
          Object.hasOwn(before, id) &&
          toCanonicalJson(a) !== toCanonicalJson(b)
        );
      })
      .sort(),
  };
}
