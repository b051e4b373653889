import { describe, expect, test } from 'vitest';
import {
  PROVIDER_TYPES,
  checkProviderHost,
  findProviderType,
  findProviderTypeForCommand,
  isCredentialKey,
} from '../index.js';

describe('provider type table', () => {
  test('lists exactly the REFERENCE.md types', () => {
    expect(Object.keys(PROVIDER_TYPES).sort()).toEqual(
      [
        'anthropic',
        'claude-code',
        'codex',
        'copilot',
        'generic',
        'github',
        'gitlab',
        'nvidia',
        'openai',
        'opencode',
      ].sort(),
    );
  });

  test.for(Object.values(PROVIDER_TYPES))(
    '$type: keys are env names, hosts are valid policy hosts, key matches type',
    (info) => {
      expect(PROVIDER_TYPES[info.type]).toBe(info);
      for (const key of info.credentialEnv) expect(isCredentialKey(key)).toBe(true);
      for (const host of info.allowedHosts) expect(checkProviderHost(host)).toBeUndefined();
      // Only generic may come without credentials or hosts; the CLI asks for flags then.
      expect(info.allowedHosts.length === 0).toBe(info.type === 'generic');
      expect(info.credentialEnv.length === 0).toBe(info.type === 'generic');
    },
  );

  test.for([
    ['claude', 'claude-code'],
    ['Claude-Code', 'claude-code'],
    ['gh', 'github'],
    ['glab', 'gitlab'],
    ['openai', 'openai'],
  ] as const)('findProviderType(%s) → %s', ([name, type]) => {
    expect(findProviderType(name)?.type).toBe(type);
  });

  test.for(['', 'claud', 'docker', 'constructor', '__proto__'])(
    'findProviderType(%j) → undefined',
    (name) => {
      expect(findProviderType(name)).toBeUndefined();
    },
  );

  test.for([
    ['claude', 'claude-code'],
    ['/usr/local/bin/codex', 'codex'],
    ['gh', 'github'],
    ['copilot', 'copilot'],
    ['opencode', 'opencode'],
  ] as const)('agent command %s implies %s', ([command, type]) => {
    expect(findProviderTypeForCommand(command)?.type).toBe(type);
  });

  test.for(['bash', '/bin/sh', 'claude-code', 'python3'])('command %s implies nothing', (cmd) => {
    expect(findProviderTypeForCommand(cmd)).toBeUndefined();
  });

  test('credential env per agent matches REFERENCE.md', () => {
    expect(PROVIDER_TYPES['claude-code'].credentialEnv).toEqual([
      'ANTHROPIC_API_KEY',
      'CLAUDE_API_KEY',
    ]);
    expect(PROVIDER_TYPES.codex.credentialEnv).toEqual(['OPENAI_API_KEY', 'CODEX_API_KEY']);
    expect(PROVIDER_TYPES.opencode.credentialEnv).toEqual([
      'OPENCODE_API_KEY',
      'OPENROUTER_API_KEY',
      'OPENAI_API_KEY',
    ]);
    expect(PROVIDER_TYPES.copilot.credentialEnv).toEqual([
      'COPILOT_GITHUB_TOKEN',
      'GH_TOKEN',
      'GITHUB_TOKEN',
    ]);
    expect(PROVIDER_TYPES.github.credentialEnv).toEqual(['GITHUB_TOKEN', 'GH_TOKEN']);
  });
});

describe('checkProviderHost', () => {
  test.for(['api.example.com', '*.example.com', '**.example.com', '203.0.113.7'])(
    '%s is accepted',
    (host) => {
      expect(checkProviderHost(host)).toBeUndefined();
    },
  );

  test.for([
    ['*', /every host/],
    ['*.com', /too broad/],
    ['https://api.example.com/v1', /is a URL/],
    ['api.example.com:443', /includes a port/],
    ['127.0.0.1', /loopback/],
  ] as const)('%s is refused (%s)', ([host, why]) => {
    expect(checkProviderHost(host)).toMatch(why);
  });
});

describe('isCredentialKey', () => {
  test.for(['GITHUB_TOKEN', '_X', 'a1'])('%s is a key', (key) => {
    expect(isCredentialKey(key)).toBe(true);
  });
  test.for(['', '1ABC', 'A-B', 'A B', 'A=B'])('%j is not a key', (key) => {
    expect(isCredentialKey(key)).toBe(false);
  });
});
