import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';
import { expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * Pins every command and its flags (name, short char, required, options, multiple) so a
 * breaking change to the CLI surface fails here unless the snapshot is updated on purpose.
 */
test('command surface', async () => {
  const config = await Config.load(PACKAGE_DIR);
  const surface = config.commands
    .map((cmd) => ({
      id: cmd.id.replaceAll(':', ' '),
      args: Object.keys(cmd.args),
      flags: Object.entries(cmd.flags)
        .map(([name, flag]) => {
          const f = flag as {
            char?: string;
            required?: boolean;
            options?: readonly string[];
            multiple?: boolean;
            type: string;
          };
          return [
            `--${name}`,
            f.char === undefined ? '' : `-${f.char}`,
            f.type,
            f.required === true ? 'required' : '',
            f.multiple === true ? 'multiple' : '',
            f.options === undefined ? '' : f.options.join('|'),
          ]
            .filter((s) => s !== '')
            .join(' ');
        })
        .sort(),
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
  expect(surface.map((c) => c.id)).toContain('policy validate');
  expect(surface).toMatchSnapshot();
});

test('--help and -V work at the root', async () => {
  const help = await runCli(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('policy');
  const version = await runCli(['-V']);
  expect(version.code).toBe(0);
  expect(version.stdout).toMatch(/^@openshell\/cli\/0\.1\.0 /);
});

test('an unknown command exits 2 and says so', async () => {
  const r = await runCli(['polcy', 'validate']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/polcy/);
});
