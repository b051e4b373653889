import { createInterface } from 'node:readline/promises';
import {
  OpenShellError,
  diffNetworkPolicies,
  parsePolicy,
  type Policy,
} from '@openshell/policy-schema';

/**
 * Ids of active network policies that `next` would drop. The active YAML comes from the
 * gateway (GetPolicyResponse.yaml), so a body that does not parse is the gateway's bug and
 * fails closed rather than skipping the check.
 */
export function findRemovedPolicies(activeYaml: string, next: Policy): string[] {
  const active = parsePolicy(activeYaml, { file: '<active policy>' });
  if (active.policy === undefined) {
    throw new OpenShellError(
      'ERR_INTERNAL',
      'the active policy returned by the gateway does not parse, so the removals cannot be checked; pass --yes to apply anyway',
    );
  }
  return [...diffNetworkPolicies(active.policy, next).removed];
}

export interface ConfirmDeps {
  /** Whether a person can answer (stdin and stderr are terminals). */
  readonly interactive: boolean;
  /** Asks one question on the terminal and resolves with the answer. */
  readonly ask: (question: string) => Promise<string>;
  readonly write: (text: string) => void;
}

/**
 * REFERENCE.md **ours**: a `policy set` that would drop active network policies shows them
 * and asks first. A script cannot answer, so without `--yes` it is refused (exit 2) rather
 * than silently cutting a running agent off from hosts it is using.
 */
export async function confirmRemovals(
  removed: readonly string[],
  options: { readonly yes: boolean; readonly sandbox: string },
  deps: ConfirmDeps,
): Promise<boolean> {
  if (removed.length === 0 || options.yes) return true;
  const list = removed.map((id) => `  - ${id}`).join('\n');
  const what = `${removed.length === 1 ? 'network policy' : 'network policies'} active on sandbox ${options.sandbox}`;
  if (!deps.interactive) {
    throw new OpenShellError(
      'ERR_USAGE',
      `this policy would remove ${removed.length} ${what}:\n${list}\nPass --yes to apply it anyway.`,
      { details: { removed } },
    );
  }
  deps.write(`This policy removes ${removed.length} ${what}:\n${list}\n`);
  const answer = await deps.ask('Apply it? [y/N] ');
  return /^y(es)?$/i.test(answer.trim());
}

/** ConfirmDeps on the process's own terminal (prompt on stderr, stdout stays data-only). */
export function createTerminalConfirmDeps(): ConfirmDeps {
  return {
    interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
    write: (text) => process.stderr.write(text),
    ask: async function askOnTerminal(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  };
}
