import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { AGENT_PRESETS } from '@openshell/policy-schema';
import { choosePolicy, describePresetUse } from './agent-policy.js';

describe('choosePolicy', () => {
  test('the agent basename picks its preset; --no-preset and other commands pick none', async () => {
    const claude = await choosePolicy({
      policyFile: undefined,
      usePreset: true,
      command: ['/usr/bin/claude', '-p', 'hi'],
    });
    expect(claude).toEqual({
      yaml: AGENT_PRESETS.claude.yaml,
      fileName: 'preset:claude',
      preset: AGENT_PRESETS.claude,
    });
    const off = await choosePolicy({
      policyFile: undefined,
      usePreset: false,
      command: ['claude'],
    });
    expect(off).toBeUndefined();
    const other = await choosePolicy({ policyFile: undefined, usePreset: true, command: ['bash'] });
    expect(other).toBeUndefined();
    expect(
      await choosePolicy({ policyFile: undefined, usePreset: true, command: [] }),
    ).toBeUndefined();
  });

  test('a --policy file wins and is validated', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openshell-preset-'));
    const good = join(dir, 'good.yaml');
    await writeFile(good, 'version: 1\n');
    const chosen = await choosePolicy({ policyFile: good, usePreset: true, command: ['claude'] });
    expect(chosen).toEqual({ yaml: 'version: 1\n', fileName: good });
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'version: 1\nnetwork_policies: [1]\n');
    await expect(
      choosePolicy({ policyFile: bad, usePreset: true, command: ['claude'] }),
    ).rejects.toMatchObject({ code: 'ERR_POLICY_INVALID' });
  });
});

describe('describePresetUse', () => {
  test.for([
    { stderrIsTty: true, verbosity: 0, said: true },
    { stderrIsTty: false, verbosity: 1, said: true },
    { stderrIsTty: false, verbosity: 0, said: false },
  ])('tty=$stderrIsTty -v×$verbosity → said: $said', ({ stderrIsTty, verbosity, said }) => {
    const line = describePresetUse(AGENT_PRESETS.codex, 'brave-otter', { stderrIsTty, verbosity });
    if (said) {
      expect(line).toBe(
        'Using the built-in codex policy (see `openshell policy get brave-otter --full`); ' +
          'pass --policy FILE to use your own.\n',
      );
    } else {
      expect(line).toBeUndefined();
    }
  });
});
