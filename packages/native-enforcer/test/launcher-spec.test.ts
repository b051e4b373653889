import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LAUNCHER_EXIT, spawnEnforced } from '../src/index.js';
import { runLaunched, runRawLauncher } from './helpers/run-process.js';
import {
  assertEnforcementHost,
  createSandboxWorld,
  worldSpec,
  type SandboxWorld,
} from './helpers/sandbox-world.js';

let world: SandboxWorld;

beforeAll(async () => {
  await assertEnforcementHost();
  world = await createSandboxWorld();
}, 60_000);

afterAll(async () => {
  await world?.cleanup();
});

/** A well-formed spec as records, so each case can break exactly one thing. */
function validRecords(): string[] {
  return [
    'openshell-launch-spec=1',
    'uid=10001',
    'gid=10001',
    'landlock=hard_requirement',
    'ro=/usr',
    'ro=/lib',
    'ro=/lib64',
    'ro=/bin',
    'ro=/etc',
    `ro=${world.binDir}`,
    `arg=${world.probe}`,
    'arg=env',
    'env=MARKER=executed',
    'cwd=/',
    'end=1',
  ];
}

function encode(records: readonly string[]): Buffer {
  return Buffer.from(records.map((r) => `${r}\0`).join(''));
}

function replace(records: string[], prefix: string, replacement: string | null): string[] {
  const index = records.findIndex((r) => r.startsWith(prefix));
  if (index < 0) throw new Error(`no record ${prefix}`);
  if (replacement === null) records.splice(index, 1);
  else records[index] = replacement;
  return records;
}

describe('the launcher refuses malformed specs and executes nothing', () => {
  test('control: the unbroken spec runs the command', async () => {
    const result = await runRawLauncher({ payload: encode(validRecords()) });
    expect(result).toMatchObject({ code: 0, stdout: 'MARKER=executed\n', stderr: '' });
  });

  test.for([
    {
      name: 'uid 0',
      payload: () => encode(replace(validRecords(), 'uid=', 'uid=0')),
      error: 'uid=0: must be a decimal id in 1..4294967294 (root/0 is refused)',
    },
    {
      name: 'gid 0',
      payload: () => encode(replace(validRecords(), 'gid=', 'gid=0')),
      error: 'gid=0: must be a decimal id in 1..4294967294 (root/0 is refused)',
    },
    {
      name: 'supplementary group 0',
      payload: () => encode(replace(validRecords(), 'gid=', 'gid=10001\0group=0')),
      error: 'group=0: must be a decimal id in 1..4294967294 (root/0 is refused)',
    },
    {
      name: 'uid -1 (setresuid\'s "unchanged")',
      payload: () => encode(replace(validRecords(), 'uid=', 'uid=4294967295')),
      error: 'uid=4294967295: must be a decimal id in 1..4294967294 (root/0 is refused)',
    },
    {
      name: 'uid with a leading zero',
      payload: () => encode(replace(validRecords(), 'uid=', 'uid=010001')),
      error: 'uid=010001: must be a decimal id in 1..4294967294 (root/0 is refused)',
    },
    {
      name: 'missing uid',
      payload: () => encode(replace(validRecords(), 'uid=', null)),
      error: 'missing uid',
    },
    {
      name: 'uid twice',
      payload: () => encode(replace(validRecords(), 'gid=', 'gid=10001\0uid=10002')),
      error: 'key uid given twice',
    },
    {
      name: 'truncated (no end record)',
      payload: () => encode(validRecords().slice(0, -1)),
      error: 'missing end record (spec truncated?)',
    },
    {
      name: 'cut mid-record',
      payload: () => encode(validRecords()).subarray(0, 40),
      error: 'truncated (last record is not NUL-terminated)',
    },
    {
      name: 'data after the end record',
      payload: () => encode([...validRecords(), 'arg=more']),
      error: 'data after the end record',
    },
    {
      name: 'wrong version',
      payload: () =>
        encode(replace(validRecords(), 'openshell-launch-spec=', 'openshell-launch-spec=2')),
      error: 'first record must be "openshell-launch-spec=1" (wrong format or version)',
    },
    {
      name: 'unknown key',
      payload: () => encode(replace(validRecords(), 'cwd=', 'cwd=/\0seccomp=off')),
      error: 'unknown key "seccomp"',
    },
    {
      name: 'unknown landlock mode',
      payload: () => encode(replace(validRecords(), 'landlock=', 'landlock=maybe')),
      error: 'landlock=maybe: must be off, best_effort or hard_requirement',
    },
    {
      name: 'relative rule path',
      payload: () => encode(replace(validRecords(), 'ro=/usr', 'ro=usr')),
      error: 'ro=usr: must be an absolute path',
    },
    {
      name: 'relative cwd',
      payload: () => encode(replace(validRecords(), 'cwd=', 'cwd=tmp')),
      error: 'cwd=tmp: must be an absolute path',
    },
    {
      name: 'env entry without a name',
      payload: () => encode(replace(validRecords(), 'env=', 'env==x')),
      error: 'env==x: must be NAME=value with a non-empty NAME',
    },
    {
      name: 'no command',
      payload: () => encode(validRecords().filter((r) => !r.startsWith('arg='))),
      error: 'missing command (no arg records)',
    },
    {
      name: 'empty spec',
      payload: () => Buffer.alloc(0),
      error: 'empty (nothing was written to fd 3)',
    },
    {
      name: 'test switch with a value other than 1',
      payload: () => encode(replace(validRecords(), 'cwd=', 'cwd=/\0test_landlock_unavailable=0')),
      error: 'test_landlock_unavailable=0: must be 1',
    },
  ])('$name', async ({ payload, error }) => {
    const result = await runRawLauncher({ payload: payload() });
    expect(result).toMatchObject({
      code: LAUNCHER_EXIT.SETUP_FAILED,
      stdout: '',
      stderr: `openshell-launcher: spec: ${error}\n`,
    });
  });

  test('no spec fd at all', async () => {
    const result = await runRawLauncher({ payload: null });
    expect(result).toMatchObject({
      code: 125,
      stderr: 'openshell-launcher: spec: fd 3 is not open (pass the launch spec on fd 3)\n',
    });
  });

  test('arguments other than --probe are refused (the spec never travels in argv)', async () => {
    const result = await runRawLauncher({ payload: encode(validRecords()), args: ['--uid=0'] });
    expect(result).toMatchObject({ code: 125, stdout: '' });
    expect(result.stderr).toMatch(/^openshell-launcher: usage: /);
  });

  test('a control byte in a value is escaped, so the error stays on one line', async () => {
    const result = await runRawLauncher({
      payload: encode(replace(validRecords(), 'cwd=', 'cwd=evil\n\u001b[2J')),
    });
    expect(result.stderr).toBe(
      'openshell-launcher: spec: cwd=evil\\x0a\\x1b[2J: must be an absolute path\n',
    );
  });
});

describe('exec failures have their own exit codes', () => {
  test('command not found in PATH: 127', async () => {
    const result = await runLaunched(worldSpec(world, ['openshell-no-such-command']));
    expect(result).toMatchObject({
      code: LAUNCHER_EXIT.NOT_FOUND,
      stderr:
        'openshell-launcher: exec: openshell-no-such-command: command not found in PATH=/usr/bin:/bin\n',
    });
  });

  test('PATH lookup uses the spec environment (control for the case above)', async () => {
    const result = await runLaunched(
      worldSpec(world, ['escape-probe', 'fork'], { env: { PATH: `/usr/bin:${world.binDir}` } }),
    );
    expect(result).toMatchObject({ code: 0, stdout: 'OK\n' });
  });

  test('a file without execute permission: 126', async () => {
    const file = join(world.roDir, 'file.txt');
    const result = await runLaunched(worldSpec(world, [file]));
    expect(result).toMatchObject({
      code: LAUNCHER_EXIT.NOT_EXECUTABLE,
      stderr: `openshell-launcher: exec: ${file}: Permission denied\n`,
    });
  });

  test('a missing cwd fails set-up (125) before anything runs', async () => {
    const spec = worldSpec(world, [world.probe, 'env']);
    const result = await runLaunched({ ...spec, cwd: '/nonexistent-openshell-cwd' });
    expect(result).toMatchObject({
      code: 125,
      stdout: '',
      stderr: 'openshell-launcher: cwd: /nonexistent-openshell-cwd: No such file or directory\n',
    });
  });
});

describe('spawnEnforced', () => {
  test('refuses uid 0 before starting any process', () => {
    const spec = worldSpec(world, ['true']);
    expect(() => spawnEnforced({ ...spec, uid: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_INVALID' }),
    );
  });

  test('reports a missing launcher binary as ERR_ENFORCER_FAILED', () => {
    const spec = worldSpec(world, ['true']);
    expect(() => spawnEnforced(spec, { launcher: '/nonexistent/openshell-launcher' })).toThrow(
      expect.objectContaining({ code: 'ERR_ENFORCER_FAILED' }),
    );
  });

  test("a 1 MiB spec crosses the pipe; the kernel's 128 KiB limit per env string gives 126, 100 KiB arrives intact", async () => {
    const big = 'x'.repeat(1024 * 1024);
    const result = await runLaunched(
      worldSpec(world, ['sh', '-c', 'printf %s "$BIG" | wc -c'], {
        env: { PATH: '/usr/bin:/bin', BIG: big },
      }),
    );
    // Linux caps one env string at 128 KiB (MAX_ARG_STRLEN): the launcher reports it as an exec failure
    expect(result.code).toBe(126);
    expect(result.stderr).toBe('openshell-launcher: exec: /usr/bin/sh: Argument list too long\n');
    const fits = 'y'.repeat(100 * 1024);
    const ok = await runLaunched(
      worldSpec(world, ['sh', '-c', 'printf %s "$FITS" | wc -c'], {
        env: { PATH: '/usr/bin:/bin', FITS: fits },
      }),
    );
    expect(ok).toMatchObject({ code: 0, stdout: `${fits.length}\n` });
  });
});
