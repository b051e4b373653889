import { findProviderTypeForCommand, type ProviderType } from '../providers/provider-types.js';

/**
 * Built-in policies for the supported agents (`sandbox create -- claude` without `--policy`).
 * Each is plain policy-file text, so what the sandbox gets is exactly what `policy get --full`
 * shows and what a user can copy, edit and pass back with `--policy`.
 *
 * Choices shared by every preset:
 * - Static sections are the default policy's (REFERENCE.md "Default policy"); only
 *   `network_policies` differs, and it lists only the hosts the agent's own API traffic needs.
 *   Telemetry, error reporting, auto-update and sign-in hosts are left out: a denied telemetry
 *   call costs the user nothing, an allowed one is a channel out of the sandbox.
 * - Binary globs stay under `/usr`, which is read-only inside the sandbox (Landlock), so the
 *   agent cannot plant a file there that matches; installs under a home directory (nvm,
 *   `~/.local`) are not matched and need `--policy`.
 * - Ancestor matching (REFERENCE.md "Binary matches ... or any ancestor") means every tool the
 *   agent spawns (its Bash tool's curl, a python script) may reach these hosts too. That is
 *   inherent to running an agent; the L7 rules below keep what those requests can do narrow.
 */
export type AgentName = 'claude' | 'codex' | 'opencode' | 'copilot';

export interface AgentPreset {
  readonly agent: AgentName;
  /** The provider type the same command implies (`findProviderTypeForCommand`). */
  readonly providerType: ProviderType;
  /** Shown in diagnostics and sent as the policy file name: `preset:<agent>`. */
  readonly fileName: string;
  /** The policy file text (version 1). */
  readonly yaml: string;
}

const STATIC_SECTIONS = `version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /etc, /proc, /dev/urandom]
  read_write: [/sandbox, /tmp, /dev/null]
landlock:
  compatibility: best_effort
process:
  run_as_user: sandbox
  run_as_group: sandbox
network_policies:
`;

// Claude Code >= 2.1 is a Bun-built native executable: npm's postinstall copies it over
// bin/claude.exe (cli-wrapper.cjs falls back to running it from the platform package).
// Releases before that were cli.js run by node, hence the node globs. Matching node is
// weaker than matching claude: ANY node script (a package's postinstall, a script the agent
// writes) is then allowed to these hosts, not only Claude Code. Drop those two lines with
// --policy if your claude is the native build.
// The Messages API host gets read-write rather than a path list: the client's paths change
// between releases (HEAD / probe, POST /v1/messages?beta=true, token counting, ...), and the
// key it carries grants the same access whatever the path; DELETE stays denied.
// Telemetry (statsig, sentry) is not listed; set CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
// (or DISABLE_TELEMETRY=1) with --env to stop the attempts instead of seeing them denied.
const CLAUDE = `${STATIC_SECTIONS}  claude_code:
    name: claude-code
    endpoints:
      - host: api.anthropic.com
        port: 443
        protocol: rest
        enforcement: enforce
        access: read-write
    binaries:
      - path: /usr/**/node_modules/@anthropic-ai/claude-code/bin/claude.exe
      - path: /usr/**/node_modules/@anthropic-ai/claude-code-linux-*/claude
      - path: /usr/**/bin/claude
      # Older npm releases (cli.js under node); matches every node script, see above.
      - path: /usr/**/bin/node
      - path: /usr/**/bin/nodejs
`;

// bin/codex.js is only a launcher: it execve()s (or, on Node < 22.15, spawns) the native
// binary from the platform package's vendor/<target-triple>/bin/, which makes the requests.
// So node is not listed. ChatGPT sign-in (chatgpt.com, auth.openai.com) is not included;
// the provider table binds OPENAI_API_KEY to api.openai.com only.
const CODEX = `${STATIC_SECTIONS}  codex:
    name: codex
    endpoints:
      - host: api.openai.com
        port: 443
        protocol: rest
        enforcement: enforce
        access: read-write
    binaries:
      - path: /usr/**/node_modules/@openai/codex*/vendor/*/bin/codex
      - path: /usr/**/bin/codex
`;

// opencode-ai's postinstall links the platform package's bin/opencode over bin/opencode.exe.
// The hosts are the ones the opencode provider binds credentials to, plus Anthropic, which
// opencode calls directly when configured for it.
const OPENCODE = `${STATIC_SECTIONS}  opencode:
    name: opencode
    endpoints:
      - { host: opencode.ai, port: 443, protocol: rest, enforcement: enforce, access: read-write }
      - { host: openrouter.ai, port: 443, protocol: rest, enforcement: enforce, access: read-write }
      - { host: api.openai.com, port: 443, protocol: rest, enforcement: enforce, access: read-write }
      - { host: api.anthropic.com, port: 443, protocol: rest, enforcement: enforce, access: read-write }
    binaries:
      - path: /usr/**/node_modules/opencode-ai/bin/opencode.exe
      - path: /usr/**/node_modules/opencode-*/bin/opencode
      - path: /usr/**/bin/opencode
`;

// npm-loader.js spawns the platform package's native `copilot`. The Copilot API lives on
// per-plan hosts (api.githubcopilot.com, api.individual.githubcopilot.com, ...). On the
// GitHub hosts the token (GH_TOKEN/GITHUB_TOKEN) can do far more than Copilot needs, so they
// are narrowed: api.github.com read-only (user, Copilot token), github.com only the device
// sign-in flow — never git-receive-pack, which would let the agent push with the token.
const COPILOT = `${STATIC_SECTIONS}  copilot:
    name: copilot
    endpoints:
      - host: "**.githubcopilot.com"
        port: 443
        protocol: rest
        enforcement: enforce
        access: read-write
      - host: api.github.com
        port: 443
        protocol: rest
        enforcement: enforce
        access: read-only
      - host: github.com
        port: 443
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: POST, path: /login/device/code }
          - allow: { method: POST, path: /login/oauth/access_token }
    binaries:
      - path: /usr/**/node_modules/@github/copilot-*/copilot
      - path: /usr/**/bin/copilot
`;

function makePreset(agent: AgentName, providerType: ProviderType, yaml: string): AgentPreset {
  return Object.freeze({ agent, providerType, fileName: `preset:${agent}`, yaml });
}

/** The built-in policy for each supported agent, keyed by the agent's command name. */
export const AGENT_PRESETS: Readonly<Record<AgentName, AgentPreset>> = Object.freeze({
  claude: makePreset('claude', 'claude-code', CLAUDE),
  codex: makePreset('codex', 'codex', CODEX),
  opencode: makePreset('opencode', 'opencode', OPENCODE),
  copilot: makePreset('copilot', 'copilot', COPILOT),
});

/**
 * The preset for an agent command (`/usr/local/bin/claude` → claude), or undefined. Goes
 * through `findProviderTypeForCommand` so a command gets a preset exactly when it is the
 * agent its provider type names (`gh` has a provider type but no preset).
 */
export function findAgentPreset(command: string): AgentPreset | undefined {
  const providerType = findProviderTypeForCommand(command)?.type;
  if (providerType === undefined) return undefined;
  return Object.values(AGENT_PRESETS).find((preset) => preset.providerType === providerType);
}
