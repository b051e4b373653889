import { basename } from 'node:path';

/** One provider the CLI could create from the user's environment for a known agent. */
export interface DetectedProvider {
  /** Provider type (REFERENCE.md "Providers"); also the name it is created under. */
  readonly type: string;
  readonly agent: string;
  /** Variable name → value, only those set and non-empty. */
  readonly credentials: Readonly<Record<string, string>>;
}

/**
 * Agent executable → provider type and the variables it reads (REFERENCE.md "Providers"),
 * in the order the agent prefers them.
 */
const AGENTS: Readonly<Record<string, { type: string; vars: readonly string[] }>> = {
  claude: { type: 'claude-code', vars: ['ANTHROPIC_API_KEY', 'CLAUDE_API_KEY'] },
  codex: { type: 'codex', vars: ['OPENAI_API_KEY'] },
  opencode: {
    type: 'opencode',
    vars: ['OPENCODE_API_KEY', 'OPENROUTER_API_KEY', 'OPENAI_API_KEY'],
  },
  copilot: { type: 'copilot', vars: ['COPILOT_GITHUB_TOKEN', 'GH_TOKEN', 'GITHUB_TOKEN'] },
  gh: { type: 'github', vars: ['GITHUB_TOKEN', 'GH_TOKEN'] },
};

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
  const known = Object.hasOwn(AGENTS, agent) ? AGENTS[agent] : undefined;
  if (known === undefined) return undefined;
  const credentials: Record<string, string> = {};
  for (const name of known.vars) {
    const value = env[name];
    if (value !== undefined && value !== '') credentials[name] = value;
  }
  if (Object.keys(credentials).length === 0) return undefined;
  return { type: known.type, agent, credentials };
}
