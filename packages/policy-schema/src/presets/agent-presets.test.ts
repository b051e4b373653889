import { describe, expect, test } from 'vitest';
import {
  AGENT_PRESETS,
  DEFAULT_POLICY,
  compilePolicy,
  decide,
  findAgentPreset,
  parsePolicy,
  type AgentName,
  type CompiledPolicy,
} from '../index.js';

function compilePreset(agent: AgentName): CompiledPolicy {
  const { policy, diagnostics } = parsePolicy(AGENT_PRESETS[agent].yaml, {
    file: AGENT_PRESETS[agent].fileName,
  });
  expect(diagnostics).toEqual([]);
  if (policy === undefined) throw new Error(`${agent} preset did not parse`);
  return compilePolicy(policy);
}

const CLAUDE_NATIVE = '/usr/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe';
const CODEX_NATIVE =
  '/usr/lib/node_modules/@openai/codex/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex';
const OPENCODE_NATIVE = '/usr/local/lib/node_modules/opencode-ai/bin/opencode.exe';
const COPILOT_NATIVE = '/usr/lib/node_modules/@github/copilot-linux-x64/copilot';

/** One request the agent makes (allowed) beside one it must not (denied). */
interface PresetCase {
  readonly agent: AgentName;
  readonly binary: string;
  readonly host: string;
  readonly method: string;
  readonly target: string;
}

const API_CASES: readonly PresetCase[] = [
  {
    agent: 'claude',
    binary: CLAUDE_NATIVE,
    host: 'api.anthropic.com',
    method: 'POST',
    target: '/v1/messages?beta=true',
  },
  {
    agent: 'claude',
    binary: CLAUDE_NATIVE,
    host: 'api.anthropic.com',
    method: 'HEAD',
    target: '/',
  },
  {
    agent: 'claude',
    binary: '/usr/bin/node',
    host: 'api.anthropic.com',
    method: 'POST',
    target: '/v1/messages',
  },
  {
    agent: 'claude',
    binary: '/usr/local/bin/node',
    host: 'api.anthropic.com',
    method: 'POST',
    target: '/v1/messages',
  },
  {
    agent: 'codex',
    binary: CODEX_NATIVE,
    host: 'api.openai.com',
    method: 'POST',
    target: '/v1/responses',
  },
  {
    agent: 'codex',
    binary: '/usr/local/lib/node_modules/@openai/codex/vendor/aarch64-unknown-linux-musl/bin/codex',
    host: 'api.openai.com',
    method: 'GET',
    target: '/v1/models',
  },
  {
    agent: 'opencode',
    binary: OPENCODE_NATIVE,
    host: 'openrouter.ai',
    method: 'POST',
    target: '/api/v1/chat/completions',
  },
  {
    agent: 'opencode',
    binary: OPENCODE_NATIVE,
    host: 'api.openai.com',
    method: 'POST',
    target: '/v1/chat/completions',
  },
  {
    agent: 'opencode',
    binary: OPENCODE_NATIVE,
    host: 'api.anthropic.com',
    method: 'POST',
    target: '/v1/messages',
  },
  {
    agent: 'opencode',
    binary: OPENCODE_NATIVE,
    host: 'opencode.ai',
    method: 'POST',
    target: '/zen/v1/chat/completions',
  },
  {
    agent: 'copilot',
    binary: COPILOT_NATIVE,
    host: 'api.githubcopilot.com',
    method: 'POST',
    target: '/chat/completions',
  },
  {
    agent: 'copilot',
    binary: COPILOT_NATIVE,
    host: 'api.individual.githubcopilot.com',
    method: 'POST',
    target: '/chat/completions',
  },
  {
    agent: 'copilot',
    binary: COPILOT_NATIVE,
    host: 'api.github.com',
    method: 'GET',
    target: '/copilot_internal/v2/token',
  },
  {
    agent: 'copilot',
    binary: COPILOT_NATIVE,
    host: 'github.com',
    method: 'POST',
    target: '/login/device/code',
  },
];

describe('agent presets', () => {
  test('exactly the four supported agents, each named preset:<agent>', () => {
    expect(Object.keys(AGENT_PRESETS).sort()).toEqual(['claude', 'codex', 'copilot', 'opencode']);
    for (const [agent, preset] of Object.entries(AGENT_PRESETS)) {
      expect(preset.agent).toBe(agent);
      expect(preset.fileName).toBe(`preset:${agent}`);
    }
  });

  test.for(Object.values(AGENT_PRESETS))(
    '$agent: parses with no diagnostics; static sections are the default policy',
    (preset) => {
      const { policy, diagnostics, sections } = parsePolicy(preset.yaml, { file: preset.fileName });
      expect(diagnostics).toEqual([]);
      expect(sections).toEqual(['filesystem_policy', 'landlock', 'process', 'network_policies']);
      expect(policy?.filesystem_policy).toEqual(DEFAULT_POLICY.filesystem_policy);
      expect(policy?.landlock).toEqual(DEFAULT_POLICY.landlock);
      expect(policy?.process).toEqual(DEFAULT_POLICY.process);
      expect(Object.keys(policy?.network_policies ?? {})).toHaveLength(1);
    },
  );

  test.for(API_CASES)(
    '$agent: $method $host$target allowed for its binary; same request to example.com denied',
    ({ agent, binary, host, method, target }) => {
      const compiled = compilePreset(agent);
      const l4 = decide(compiled, { host, port: 443, binary });
      expect(l4).toMatchObject({ action: 'allow', inspect: true });
      expect(decide(compiled, { host, port: 443, binary, method, target }).action).toBe('allow');
      // Same binary, same request, unlisted host: denied at CONNECT.
      expect(decide(compiled, { host: 'example.com', port: 443, binary }).action).toBe('deny');
      // The API host on another port is not the API.
      expect(decide(compiled, { host, port: 80, binary }).action).toBe('deny');
    },
  );

  test.for(Object.values(AGENT_PRESETS))(
    '$agent: an unrelated binary is denied unless the agent is its ancestor',
    (preset) => {
      const allowed = API_CASES.find((c) => c.agent === preset.agent);
      if (allowed === undefined) throw new Error(`no API case for ${preset.agent}`);
      const compiled = compilePreset(preset.agent);
      const curl = { host: allowed.host, port: 443, binary: '/usr/bin/curl' };
      expect(decide(compiled, curl).action).toBe('deny');
      // The agent's Bash tool running curl: the agent is an ancestor, so it is allowed.
      expect(decide(compiled, { ...curl, ancestors: ['/bin/bash', allowed.binary] }).action).toBe(
        'allow',
      );
      // A binary the agent dropped in its writable workdir does not match the /usr globs.
      const planted = `/sandbox/node_modules/.bin/${preset.agent}`;
      expect(decide(compiled, { ...curl, binary: planted }).action).toBe('deny');
    },
  );

  test.for([
    ['claude', 'api.anthropic.com', 'DELETE', '/v1/files/file_1'],
    ['codex', 'api.openai.com', 'DELETE', '/v1/files/file-1'],
    ['copilot', 'api.github.com', 'POST', '/repos/o/r/issues'],
    ['copilot', 'github.com', 'POST', '/o/r.git/git-receive-pack'],
    ['copilot', 'github.com', 'GET', '/o/r'],
  ] as const)('%s: %s %s%s denied at L7', ([agent, host, method, target]) => {
    const binary = API_CASES.find((c) => c.agent === agent)?.binary ?? '';
    const compiled = compilePreset(agent);
    expect(decide(compiled, { host, port: 443, binary }).action).toBe('allow');
    expect(decide(compiled, { host, port: 443, binary, method, target })).toMatchObject({
      action: 'deny',
      layer: 'l7',
    });
  });

  test('node matches only for claude (legacy cli.js), never for the native-binary agents', () => {
    for (const agent of ['codex', 'opencode', 'copilot'] as const) {
      const host = API_CASES.find((c) => c.agent === agent)?.host ?? '';
      const compiled = compilePreset(agent);
      expect(decide(compiled, { host, port: 443, binary: '/usr/bin/node' }).action).toBe('deny');
    }
    const claude = compilePreset('claude');
    expect(
      decide(claude, { host: 'api.anthropic.com', port: 443, binary: '/usr/bin/node' }).action,
    ).toBe('allow');
  });
});

describe('findAgentPreset', () => {
  test.for([
    ['claude', 'claude'],
    ['/usr/local/bin/claude', 'claude'],
    ['codex', 'codex'],
    ['/usr/bin/opencode', 'opencode'],
    ['copilot', 'copilot'],
  ] as const)('%s → %s', ([command, agent]) => {
    expect(findAgentPreset(command)).toBe(AGENT_PRESETS[agent]);
  });

  test.for(['gh', 'glab', 'bash', 'claude-code', 'Claude', '/usr/bin/claude/', '', 'claudex'])(
    '%j → none',
    (command) => {
      expect(findAgentPreset(command)).toBeUndefined();
    },
  );
});
