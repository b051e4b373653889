import { checkHost } from '../validate/host.js';

/**
 * Provider types (REFERENCE.md "Providers"). One table read by the CLI (`provider create`,
 * `sandbox create -- <agent>` auto-detection) and by the gateway (which hosts a stored
 * credential may be swapped in for), so the two can never disagree about where a secret goes.
 */
export type ProviderType =
  | 'claude-code'
  | 'codex'
  | 'opencode'
  | 'copilot'
  | 'github'
  | 'gitlab'
  | 'anthropic'
  | 'openai'
  | 'nvidia'
  | 'generic';

export interface ProviderTypeInfo {
  readonly type: ProviderType;
  /** Other names accepted for `--type` (`claude` for `claude-code`). */
  readonly aliases: readonly string[];
  /**
   * Environment variables `--from-existing` reads, in the order the agent itself prefers
   * them. Inside the sandbox each becomes a placeholder `openshell:resolve:env:KEY`.
   */
  readonly credentialEnv: readonly string[];
  /**
   * Host patterns (policy-file syntax) the proxy may swap these credentials in for. Empty
   * only for `generic`, whose hosts come from `--allowed-host`. Kept to the API hosts the
   * credential is meant for: every extra host is one more place a prompt-injected agent
   * could send a request that carries the real secret.
   */
  readonly allowedHosts: readonly string[];
  /** Basenames of agent commands that imply this type (`sandbox create -- claude`). */
  readonly agentCommands: readonly string[];
}

const GITHUB_HOSTS = ['api.github.com', 'github.com'] as const;

/** Every provider type, keyed by its canonical name. */
export const PROVIDER_TYPES: Readonly<Record<ProviderType, ProviderTypeInfo>> = {
  'claude-code': {
    type: 'claude-code',
    aliases: ['claude'],
    credentialEnv: ['ANTHROPIC_API_KEY', 'CLAUDE_API_KEY'],
    allowedHosts: ['api.anthropic.com'],
    agentCommands: ['claude'],
  },
  codex: {
    type: 'codex',
    aliases: [],
    // `codex exec` (non-interactive) reads only CODEX_API_KEY; the interactive CLI and the
    // OpenAI SDKs read OPENAI_API_KEY.
    credentialEnv: ['OPENAI_API_KEY', 'CODEX_API_KEY'],
    allowedHosts: ['api.openai.com'],
    agentCommands: ['codex'],
  },
  opencode: {
    type: 'opencode',
    aliases: [],
    // OPENCODE_API_KEY is for opencode's own gateway (opencode.ai/zen); the other two are the
    // upstreams opencode talks to directly.
    credentialEnv: ['OPENCODE_API_KEY', 'OPENROUTER_API_KEY', 'OPENAI_API_KEY'],
    allowedHosts: ['opencode.ai', 'openrouter.ai', 'api.openai.com'],
    agentCommands: ['opencode'],
  },
  copilot: {
    type: 'copilot',
    aliases: [],
    credentialEnv: ['COPILOT_GITHUB_TOKEN', 'GH_TOKEN', 'GITHUB_TOKEN'],
    // The Copilot API lives on per-plan hosts (api.githubcopilot.com,
    // api.individual.githubcopilot.com, ...), hence `**.` rather than one name.
    allowedHosts: [...GITHUB_HOSTS, 'api.githubcopilot.com', '**.githubcopilot.com'],
    agentCommands: ['copilot'],
  },
  github: {
    type: 'github',
    aliases: ['gh'],
    credentialEnv: ['GITHUB_TOKEN', 'GH_TOKEN'],
    allowedHosts: [...GITHUB_HOSTS],
    agentCommands: ['gh'],
  },
  gitlab: {
    type: 'gitlab',
    aliases: ['glab'],
    // CI_JOB_TOKEN is deliberately absent: picking up a CI runner's job token because a
    // developer ran `--from-existing` inside CI would be a surprise.
    credentialEnv: ['GITLAB_TOKEN', 'GLAB_TOKEN'],
    allowedHosts: ['gitlab.com'],
    agentCommands: ['glab'],
  },
  anthropic: {
    type: 'anthropic',
    aliases: [],
    credentialEnv: ['ANTHROPIC_API_KEY'],
    allowedHosts: ['api.anthropic.com'],
    agentCommands: [],
  },
  openai: {
    type: 'openai',
    aliases: [],
    credentialEnv: ['OPENAI_API_KEY'],
    allowedHosts: ['api.openai.com'],
    agentCommands: [],
  },
  nvidia: {
    type: 'nvidia',
    aliases: [],
    credentialEnv: ['NVIDIA_API_KEY'],
    allowedHosts: ['integrate.api.nvidia.com'],
    agentCommands: [],
  },
  generic: {
    type: 'generic',
    aliases: [],
    credentialEnv: [],
    allowedHosts: [],
    agentCommands: [],
  },
};

/** The provider type named by `name` (canonical or alias, case-insensitive), or undefined. */
export function findProviderType(name: string): ProviderTypeInfo | undefined {
  const wanted = name.trim().toLowerCase();
  return Object.values(PROVIDER_TYPES).find(
    (info) => info.type === wanted || info.aliases.includes(wanted),
  );
}

/** The provider type an agent command implies (`/usr/local/bin/claude` → claude-code), or undefined. */
export function findProviderTypeForCommand(command: string): ProviderTypeInfo | undefined {
  const base = command.slice(command.lastIndexOf('/') + 1);
  return Object.values(PROVIDER_TYPES).find((info) => info.agentCommands.includes(base));
}

/**
 * Why `host` cannot be a provider's allowed host, or undefined when it can. Same rules as
 * an endpoint host in a policy file (no URL, no port, no `*.com`), so a binding is never
 * broader than a network policy could be.
 */
export function checkProviderHost(host: string): string | undefined {
  return checkHost(host)?.message;
}

/** True for a name usable as an environment variable (`KEY` in `--credential KEY=VALUE`). */
export function isCredentialKey(key: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
}
