import { findAgentPreset, type AgentPreset } from '@openshell/policy-schema';
import { readPolicyInput } from './policy-input.js';

/** The policy `sandbox create` sends: its text, its file name, and the preset it came from. */
export interface ChosenPolicy {
  readonly yaml: string;
  readonly fileName: string;
  readonly preset?: AgentPreset;
}

export interface ChoosePolicyOptions {
  /** `--policy FILE`; always wins. */
  readonly policyFile: string | undefined;
  /** False with `--no-preset`. */
  readonly usePreset: boolean;
  /** The command after `--` (empty when none was given). */
  readonly command: readonly string[];
}

/**
 * Picks the policy for `sandbox create`: `--policy FILE` if given, else the built-in preset
 * of the agent named by the command's basename, else none (the gateway's deny-all default).
 * The preset text is sent as-is so the gateway validates and stores what the user can read
 * back with `policy get --full`.
 */
export async function choosePolicy(
  options: ChoosePolicyOptions,
): Promise<ChosenPolicy | undefined> {
  if (options.policyFile !== undefined) return readPolicyInput(options.policyFile);
  if (!options.usePreset) return undefined;
  const command = options.command[0];
  const preset = command === undefined ? undefined : findAgentPreset(command);
  if (preset === undefined) return undefined;
  return { yaml: preset.yaml, fileName: preset.fileName, preset };
}

/**
 * The stderr line saying a preset is in force. Said only to a person (stderr is a terminal)
 * or when asked (-v): scripts capturing stderr should not see chatter, and stdout stays clean
 * for `-o json` and `--detach`'s name.
 */
export function describePresetUse(
  preset: AgentPreset,
  sandboxName: string,
  context: { readonly stderrIsTty: boolean; readonly verbosity: number },
): string | undefined {
  if (!context.stderrIsTty && context.verbosity === 0) return undefined;
  return (
    `Using the built-in ${preset.agent} policy (see \`openshell policy get ${sandboxName} --full\`); ` +
    'pass --policy FILE to use your own.\n'
  );
}
