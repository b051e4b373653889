import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { startCommandHarness, type CommandHarness } from './helpers/command-harness.js';
import { createFakePolicyService } from './helpers/fake-policy-service.js';
import { runCliInPty } from './helpers/run-in-pty.js';

// Each case runs the built CLI several times; on a loaded 2-core machine one run takes seconds.
vi.setConfig({ testTimeout: 120_000 });

const fake = createFakePolicyService(['demo', 'other']);
let h: CommandHarness;

beforeAll(async () => {
  h = await startCommandHarness(fake.handlers);
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  fake.reset();
  h.gateway.calls.length = 0;
  await h.reset();
});

const file = (name: string): string => join(h.configDir, '..', name);
const methods = (): string[] => fake.calls.map((c) => c.method);

const WITH_GITHUB = `version: 1
network_policies:
  github_api:
    name: github-api
    endpoints:
      - { host: api.github.com, port: 443, access: read-only }
    binaries:
      - path: /usr/bin/curl
  pypi:
    endpoints:
      - { host: pypi.org, port: 443 }
    binaries:
      - path: /usr/bin/pip
`;
const WITHOUT_GITHUB = `version: 1
network_policies:
  pypi:
    endpoints:
      - { host: pypi.org, port: 443 }
    binaries:
      - path: /usr/bin/pip
`;

describe('policy get', () => {
  test('header lines, labels in one column, full hash, UTC time', async () => {
    const r = await h.cli(['policy', 'get', 'demo']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Hash: {9}[0-9a-f]{64}$/m);
    expect(r.stdout.replace(/[0-9a-f]{64}/, '<sha256>')).toMatchInlineSnapshot(`
      "Version:      1
      Hash:         <sha256>
      Status:       Loaded
      Active:       1
      Created:      2026-11-27 10:16:02 UTC
      Loaded:       2026-11-27 10:16:03 UTC
      "
    `);
  });

  test('--full appends --- and the YAML body; -o json carries the same facts', async () => {
    const full = await h.cli(['policy', 'get', 'demo', '--full']);
    expect(full.code).toBe(0);
    const [header, body] = full.stdout.split('\n---\n');
    expect(header).toMatch(/^Version: {6}1\n/);
    expect(body).toMatch(/^version: 1\n/);
    expect(body).toContain('filesystem_policy:');

    const json = await h.cli(['policy', 'get', 'demo', '--full', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toEqual({
      version: 1,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      status: 'loaded',
      active: true,
      active_version: 1,
      created_at: '2026-11-27T10:16:02.000Z',
      loaded_at: '2026-11-27T10:16:03.000Z',
      error: null,
      yaml: body,
    });
  });

  test('--rev asks for that version; the name is remembered for the next command', async () => {
    await h.cli(['policy', 'set', 'demo', '--policy', '-'], { stdin: WITH_GITHUB });
    const r = await h.cli(['policy', 'get', 'demo', '--rev', '1']);
    expect(r.stdout).toMatch(/^Version: {6}1\nHash: .*\nStatus: {7}Loaded\nActive: {7}2\n/);
    expect(fake.calls.at(-1)).toEqual({
      method: 'getPolicy',
      request: { sandbox: 'demo', version: 1 },
    });
    const fallback = await h.cli(['policy', 'get']);
    expect(fallback.stdout).toMatch(/^Version: {6}2\n/);
  });

  test('unknown sandbox: exit 1 naming it', async () => {
    const r = await h.cli(['policy', 'get', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Sandbox "nope" not found/);
  });
});

describe('policy set', () => {
  test('the output of get --full goes back through set: header stripped and said so', async () => {
    const got = await h.cli(['policy', 'get', 'demo', '--full']);
    const edited =
      `${got.stdout}network_policies:\n  pypi:\n    endpoints: [{ host: pypi.org, port: 443 }]\n    binaries: [{ path: /usr/bin/pip }]\n`.replace(
        /^network_policies: \{\}\n/m,
        '',
      );
    await writeFile(file('roundtrip.yaml'), edited);
    const r = await h.cli(['policy', 'set', 'demo', '--policy', file('roundtrip.yaml')]);
    expect(r.stderr).toContain(
      `note: ignored the 'policy get --full' header above the first '---' in ${file('roundtrip.yaml')}`,
    );
    expect(r).toMatchObject({ code: 0, stdout: '✓ Policy version 2 loaded\n' });

    // Unmodified output of get --full: identical policy, same version.
    await writeFile(file('same.yaml'), got.stdout);
    const again = await h.cli(['policy', 'set', 'other', '--policy', file('same.yaml')]);
    expect(again).toMatchObject({ code: 0, stdout: 'Policy unchanged (version 1)\n' });
  });

  test('invalid file: exit 2, file:line:col of the user file (header kept in count), no RPC at all', async () => {
    const header = 'Version:      3\nHash:         x\nStatus:       Loaded\n---\n';
    const bad = `${header}version: 1\nnetwork_policies:\n  x:\n    endpoints:\n      - { host: "*.com", port: 443 }\n    binaries: [{ path: /usr/bin/curl }]\n`;
    await writeFile(file('bad.yaml'), bad);
    const r = await h.cli(['policy', 'set', 'demo', '--policy', file('bad.yaml')]);
    expect(r.code).toBe(2);
    // Line 9 of the user's file (5 after the 4 header lines), column of the host value.
    expect(r.stderr).toMatch(
      new RegExp(
        `${file('bad.yaml').replaceAll('.', '\\.')}:9:\\d+ network_policies\\.x\\.endpoints\\[0\\]\\.host: "\\*\\.com" is too broad`,
      ),
    );
    expect(methods()).toEqual([]);
    expect(h.gateway.calls).toEqual([]);
  });

  test('static change refused by the gateway: exit 2 with its message', async () => {
    const r = await h.cli(['policy', 'set', 'demo', '--policy', '-'], {
      stdin: 'version: 1\nfilesystem_policy:\n  read_only: [/usr]\n  read_write: [/sandbox]\n',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'filesystem_policy cannot be changed on a live sandbox (applied at creation); recreate the sandbox',
    );
    expect(methods()).toEqual(['getPolicy', 'setPolicy']);
  });

  test('removing active network policies: refused without --yes when not interactive; --yes applies', async () => {
    await h.cli(['policy', 'set', 'demo', '--policy', '-'], { stdin: WITH_GITHUB });
    fake.calls.length = 0;

    const refused = await h.cli(['policy', 'set', 'demo', '--policy', '-'], {
      stdin: WITHOUT_GITHUB,
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'this policy would remove 1 network policy active on sandbox demo:\n  - github_api\nPass --yes',
    );
    expect(methods()).toEqual(['getPolicy']);

    const applied = await h.cli(['policy', 'set', 'demo', '--policy', '-', '--yes'], {
      stdin: WITHOUT_GITHUB,
    });
    expect(applied).toMatchObject({ code: 0, stdout: '✓ Policy version 3 loaded\n' });
    // A pure addition needs no confirmation.
    const added = await h.cli(['policy', 'set', 'demo', '--policy', '-'], { stdin: WITH_GITHUB });
    expect(added).toMatchObject({ code: 0, stdout: '✓ Policy version 4 loaded\n' });
  });

  test('on a terminal the removals are shown and a "no" leaves the policy alone; "yes" applies', async () => {
    await h.cli(['policy', 'set', 'demo', '--policy', '-'], { stdin: WITH_GITHUB });
    await writeFile(file('smaller.yaml'), WITHOUT_GITHUB);
    fake.calls.length = 0;
    const args = ['policy', 'set', 'demo', '--policy', file('smaller.yaml')];
    const prompt = 'Apply it? [y/N]';

    const declined = await runCliInPty(args, { env: h.env, prompt, answer: 'n' });
    expect(declined.output).toContain(
      'This policy removes 1 network policy active on sandbox demo:\n  - github_api\nApply it? [y/N] ',
    );
    expect(declined.output).toContain('Aborted; the policy was not changed.');
    expect(declined.code).toBe(1);
    expect(methods()).toEqual(['getPolicy']);

    const accepted = await runCliInPty(args, { env: h.env, prompt, answer: 'y' });
    expect(accepted.output).toContain('✓ Policy version 3 loaded');
    expect(accepted.code).toBe(0);
    expect(methods()).toEqual(['getPolicy', 'getPolicy', 'setPolicy']);
  });

  test.for([
    ['load', 0, /^✓ Policy version 2 loaded\n$/, ''],
    ['fail', 1, /^$/, 'Policy version 2 failed to load: proxy: cannot compile rule'],
    [
      'pending',
      124,
      /^$/,
      'Timed out after 7s waiting for policy version 2 to load (waiting for the sandbox agent)',
    ],
  ] as const)('--wait, revision %s → exit %d', async ([behaviour, code, stdout, stderr]) => {
    fake.control.behaviour = behaviour;
    const r = await h.cli(['policy', 'set', 'demo', '--policy', '-', '--wait', '--timeout', '7'], {
      stdin: WITH_GITHUB,
    });
    expect(r.code).toBe(code);
    expect(r.stdout).toMatch(stdout);
    expect(r.stderr).toContain(stderr);
    expect(fake.calls.at(-1)).toMatchObject({
      method: 'setPolicy',
      request: { sandbox: 'demo', wait: true, timeoutMs: 7000, fileName: '<stdin>' },
    });
  });

  test('without --wait a pending revision is reported and exits 0; -o json has the shape', async () => {
    fake.control.behaviour = 'pending';
    const r = await h.cli(['policy', 'set', 'demo', '--policy', '-', '-o', 'json'], {
      stdin: WITH_GITHUB,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      version: 2,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      status: 'pending',
      created_at: '2026-11-27T10:17:02.000Z',
      loaded_at: null,
      error: null,
      unchanged: false,
      wait_timed_out: false,
    });
    const text = await h.cli(['policy', 'set', 'other', '--policy', '-'], { stdin: WITH_GITHUB });
    expect(text.stdout).toMatch(/^Policy version 2 submitted \(pending\); pass --wait/);
  });
});

describe('policy update', () => {
  test('operations reach the gateway in command-line order; --binary goes to every endpoint', async () => {
    const r = await h.cli([
      'policy',
      'update',
      'demo',
      '--add-endpoint',
      'api.example.com:443:read-only',
      '--add-deny',
      'api.example.com:443:POST:/admin/**',
      '--remove-endpoint',
      'old.example.com:80',
      '--binary',
      '/usr/bin/curl',
      '--add-endpoint',
      'b.example.com:8443',
      '--wait',
    ]);
    expect(r).toMatchObject({ code: 0, stdout: '✓ Policy version 2 loaded\n' });
    expect(fake.calls.at(-1)).toEqual({
      method: 'updatePolicy',
      request: {
        sandbox: 'demo',
        dryRun: false,
        wait: true,
        timeoutMs: 60_000,
        operations: [
          {
            op: {
              $case: 'addEndpoint',
              value: {
                host: 'api.example.com',
                port: 443,
                access: 'read-only',
                binaries: ['/usr/bin/curl'],
              },
            },
          },
          {
            op: {
              $case: 'addDeny',
              value: { host: 'api.example.com', port: 443, method: 'POST', path: '/admin/**' },
            },
          },
          { op: { $case: 'removeEndpoint', value: { host: 'old.example.com', port: 80 } } },
          {
            op: {
              $case: 'addEndpoint',
              value: { host: 'b.example.com', port: 8443, binaries: ['/usr/bin/curl'] },
            },
          },
        ],
      },
    });
  });

  test('--dry-run prints the resulting YAML and stores nothing', async () => {
    const r = await h.cli([
      'policy',
      'update',
      'demo',
      '--add-endpoint',
      'api.example.com:443',
      '--dry-run',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^version: 1\n/);
    expect(r.stdout).toContain('# operations: [{"op":{"$case":"addEndpoint"');
    expect(r.stderr).toMatch(/^Dry run: would create version 2 \(hash c{12}\); nothing stored\n$/);
    const list = await h.cli(['policy', 'list', 'demo', '-o', 'json']);
    expect(JSON.parse(list.stdout)).toHaveLength(1);
  });

  test.for([
    [
      ['--add-endpoint', 'api.example.com'],
      '--add-endpoint api.example.com: the port is missing (expected host:port[:access[:protocol[:enforcement]]])',
    ],
    [
      ['--add-endpoint', 'api.example.com:443:readonly'],
      '--add-endpoint api.example.com:443:readonly: access must be one of read-only, read-write, full',
    ],
    [
      ['--remove-endpoint', 'x.example.com'],
      '--remove-endpoint x.example.com: the port is missing (expected host:port)',
    ],
    [
      ['--add-allow', 'x.example.com:443:GET'],
      '--add-allow x.example.com:443:GET: the path glob is missing (expected host:port:METHOD:glob)',
    ],
    [
      ['--binary', '/usr/bin/curl', '--remove-endpoint', 'x.example.com:443'],
      '--binary applies to --add-endpoint',
    ],
    [[], 'nothing to update'],
    [
      ['--add-endpoint', 'x.example.com:443', '--dry-run', '--wait'],
      '--wait and --dry-run exclude each other',
    ],
  ] as const)('%j → exit 2 before any RPC', async ([flags, message]) => {
    const r = await h.cli(['policy', 'update', 'demo', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(methods()).toEqual([]);
    expect(h.gateway.calls).toEqual([]);
  });
});

describe('policy list', () => {
  test('newest first, 12-hex hash, active marked, failed error shown', async () => {
    await h.cli(['policy', 'set', 'demo', '--policy', '-'], { stdin: WITH_GITHUB });
    fake.control.behaviour = 'fail';
    await h.cli(['policy', 'set', 'demo', '--policy', '-', '--yes'], { stdin: WITHOUT_GITHUB });
    const r = await h.cli(['policy', 'list', 'demo']);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/[0-9a-f]{12}/g, '<12 hex dig>')).toMatchInlineSnapshot(`
      "VERSION  HASH          STATUS  CREATED                  ERROR
      3        <12 hex dig>  Failed  2026-11-27 10:18:02 UTC  proxy: cannot compile rule
      2*       <12 hex dig>  Loaded  2026-11-27 10:17:02 UTC
      1        <12 hex dig>  Loaded  2026-11-27 10:16:02 UTC
      "
    `);
    const json = JSON.parse(
      (await h.cli(['policy', 'list', 'demo', '-o', 'json'])).stdout,
    ) as unknown[];
    expect(json.map((r) => (r as { version: number; active: boolean }).active)).toEqual([
      false,
      true,
      false,
    ]);
    expect(Object.keys(json[0] as object).sort()).toEqual([
      'active',
      'active_version',
      'created_at',
      'error',
      'hash',
      'loaded_at',
      'status',
      'version',
    ]);
  });

  test('no name and no remembered sandbox: exit 2 saying to pass a name', async () => {
    const r = await h.cli(['policy', 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no sandbox name given/);
  });
});

test('the header written by get --full is what the set stripping expects', async () => {
  const got = await h.cli(['policy', 'get', 'demo', '--full']);
  await writeFile(file('p.yaml'), got.stdout);
  const validate = await h.cli(['policy', 'validate', file('p.yaml')]);
  expect(validate.code).toBe(0);
  expect(validate.stderr).toContain("ignored the 'policy get --full' header");
  expect(await readFile(file('p.yaml'), 'utf8')).toBe(got.stdout);
});
