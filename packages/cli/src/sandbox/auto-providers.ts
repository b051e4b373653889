import { basename } from 'node:path';
import { PROVIDER_TYPES } from '@openshell/policy-schema';

/** One provider the CLI could create from the user's environment for a known agent. */
export interface DetectedProvider {
  /** Provider type (REFERENCE.md "Providers"); also the name it is created under. */
  readonly type: string;
  readonly agent: string;
  /** Variable name → value, only those set and non-empty. */
  readonly credentials: Readonly<Record<string, string>>;
}

/**
 * Agent executable → provider type and the variables it reads, in the order the agent prefers
 * them: derived from the one provider-type table (REFERENCE.md "Providers"), so what
 * `sandbox create -- <agent>` offers and what `provider create --from-existing` reads agree.
 */
const AGENTS: ReadonlyMap<string, { type: string; vars: readonly string[] }> = new Map(
  Object.values(PROVIDER_TYPES).flatMap((info) =>
    info.agentCommands.map(
      (agent) => [agent, { type: info.type, vars: info.credentialEnv }] as const,
    ),
  ),
);

/**
 * The provider to offer for `sandbox create -- <agent> ...`: the command's basename must be a
 * known agent and at least one of its variables set. Undefined otherwise.
 */
export function detectAgentProvider(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): DetectedProvider | undefined {
  const command = argv[0];
  if (command === undefined) return undefined;
  const agent = basename(command);
  const known = AGENTS.get(agent);
  if (known === undefined) return undefined;
  const credentials: Record<string, string> = {};
  for (const name of known.vars) {
    const value = env[name];
    if (value !== undefined && value !== '') credentials[name] = value;
  }
  if (Object.keys(credentials).length === 0) return undefined;
  return { type: known.type, agent, credentials };
}
