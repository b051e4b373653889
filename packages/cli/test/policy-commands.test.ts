import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const VALID = `version: 1
network_policies:
  github_api:
    name: github-api
    endpoints:
      - host: api.github.com
        port: 443
        protocol: rest
        access: read-only
      - host: uploads.github.com
        port: 443
        protocol: rest
        enforcement: audit
        access: read-only
    binaries:
      - path: /usr/bin/curl
  raw:
    endpoints:
      - { host: github.com, port: 443 }
    binaries:
      - path: /usr/bin/git
`;

const INVALID = `version: 1
network_policies:
  too_broad:
    endpoints:
      - host: "*.com"
        port: 70000
    binaries:
      - path: /usr/bin/curl
`;

let dir: string;
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openshell-cli-'));
  await writeFile(file('valid.yaml'), VALID);
  await writeFile(file('invalid.yaml'), INVALID);
  await writeFile(
    file('with-header.yaml'),
    `Version:      3\nHash:         ${'a'.repeat(64)}\nStatus:       Loaded\nActive:       3\nCreated:      2026-11-27 10:15:02 UTC\n---\n${VALID}`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openshell policy validate', () => {
  test('valid file: exit 0, one line on stdout, nothing on stderr', async () => {
    const r = await runCli(['policy', 'validate', file('valid.yaml')]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(
      /^✓ .*valid\.yaml is valid \(hash [0-9a-f]{12}, 2 network policies\)\n$/,
    );
  });

  test('invalid file: exit 2, every diagnostic as file:line:col path: message on stderr', async () => {
    const r = await runCli(['policy', 'validate', file('invalid.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(
        /invalid\.yaml:5:\d+ network_policies\.too_broad\.endpoints\[0\]\.host: .*too broad/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /invalid\.yaml:6:\d+ network_policies\.too_broad\.endpoints\[0\]\.port: /,
      ),
    );
    expect(lines.at(-1)).toMatch(/is invalid: 2 errors$/);
  });

  test('-o json: stable shape on stdout for valid and invalid files', async () => {
    const ok = await runCli(['policy', 'validate', file('valid.yaml'), '-o', 'json']);
    expect(ok.code).toBe(0);
    const okJson = JSON.parse(ok.stdout);
    expect(okJson).toEqual({
      file: file('valid.yaml'),
      valid: true,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      header_stripped: false,
      diagnostics: [],
    });
    const bad = await runCli(['policy', 'validate', file('invalid.yaml'), '-o', 'json']);
    expect(bad.code).toBe(2);
    const badJson = JSON.parse(bad.stdout);
    expect(badJson).toMatchObject({ valid: false, hash: null });
    expect(Object.keys(badJson.diagnostics[0]).sort()).toEqual(
      expect.arrayContaining(['code', 'column', 'file', 'line', 'message', 'path', 'severity']),
    );
    expect(badJson.diagnostics.map((d: { code: string }) => d.code)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ERR_POLICY_/)]),
    );
  });

  test('-o yaml prints YAML', async () => {
    const r = await runCli(['policy', 'validate', file('valid.yaml'), '-o', 'yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^file: .*\nvalid: true\nhash: [0-9a-f]{64}\n/);
  });

  test('a leftover policy get --full header is stripped, said on stderr, and hashes like the body', async () => {
    const plain = JSON.parse(
      (await runCli(['policy', 'validate', file('valid.yaml'), '-o', 'json'])).stdout,
    );
    const r = await runCli(['policy', 'validate', file('with-header.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/ignored the 'policy get --full' header/);
    expect(r.stdout).toContain(`hash ${(plain.hash as string).slice(0, 12)}`);
  });

  test('reads stdin with -', async () => {
    const r = await runCli(['policy', 'validate', '-'], { stdin: VALID });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ <stdin> is valid/);
  });

  test('missing file: exit 2 with which file and why', async () => {
    const r = await runCli(['policy', 'validate', file('nope.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`Error: cannot read ${file('nope.yaml')}: no such file\n`);
  });

  test('YAML syntax error: exit 2 with a line and column', async () => {
    const r = await runCli(['policy', 'validate', '-'], {
      stdin: 'version: 1\nnetwork_policies: [\n',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^<stdin>:\d+:\d+ /m);
  });
});

describe('openshell policy check', () => {
  const check = (...args: string[]) => runCli(['policy', 'check', file('valid.yaml'), ...args]);

  test.for([
    // [description, args, exit code, action, rule]
    [
      'L7 GET allowed by read-only',
      ['--binary', '/usr/bin/curl', '--url', 'https://api.github.com/repos/o/r'],
      0,
      'allow',
      'GET **',
    ],
    [
      'L7 POST denied by read-only',
      [
        '--binary',
        '/usr/bin/curl',
        '--url',
        'https://api.github.com/repos/o/r/issues',
        '--method',
        'POST',
      ],
      3,
      'deny',
      'POST /repos/o/r/issues',
    ],
    [
      'L7 method is case-insensitive',
      ['--binary', '/usr/bin/curl', '--url', 'https://api.github.com/x', '--method', 'post'],
      3,
      'deny',
      'POST /x',
    ],
    [
      'audit endpoint forwards a violation',
      ['--binary', '/usr/bin/curl', '--url', 'https://uploads.github.com/x', '--method', 'POST'],
      0,
      'audit',
      'POST /x',
    ],
    [
      'L4 binary not listed',
      ['--binary', '/usr/bin/wget', '--url', 'https://api.github.com/repos/o/r'],
      3,
      'deny',
      null,
    ],
    [
      'L4 host not listed',
      ['--binary', '/usr/bin/curl', '--url', 'https://example.com/'],
      3,
      'deny',
      null,
    ],
    [
      'L4-only endpoint allows any path',
      [
        '--binary',
        '/usr/bin/git',
        '--url',
        'https://github.com/o/r.git/info/refs',
        '--method',
        'POST',
      ],
      0,
      'allow',
      'L4 github.com:443',
    ],
    [
      '--host/--port checks L4 only',
      ['--binary', '/usr/bin/git', '--host', 'github.com', '--port', '443'],
      0,
      'allow',
      'L4 github.com:443',
    ],
    [
      '--host/--port wrong port denied',
      ['--binary', '/usr/bin/git', '--host', 'github.com', '--port', '22'],
      3,
      'deny',
      null,
    ],
    [
      'ancestor binary matches',
      [
        '--binary',
        '/usr/bin/bash',
        '--ancestor',
        '/usr/bin/git',
        '--host',
        'github.com',
        '--port',
        '443',
      ],
      0,
      'allow',
      'L4 github.com:443',
    ],
  ] as const)('%s', async ([, args, code, action, rule]) => {
    const r = await check(...args, '-o', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(code);
    const json = JSON.parse(r.stdout);
    expect(json.action).toBe(action);
    expect(json.rule).toBe(rule);
    expect(typeof json.reason).toBe('string');
  });

  test('table output names action, policy, rule and reason', async () => {
    const r = await check(
      '--binary',
      '/usr/bin/curl',
      '--url',
      'https://api.github.com/a',
      '--method',
      'DELETE',
    );
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(
      /^Action: {2}deny\nLayer: {3}L7\nPolicy: {2}github_api \(github-api\)\nRule: {4}DELETE \/a\nReason: {2}.+\n$/,
    );
  });

  test('path tricks are canonicalised before matching: dot segments do not escape a deny', async () => {
    const r = await check(
      '--binary',
      '/usr/bin/curl',
      '--url',
      'https://api.github.com/a/../b',
      '-o',
      'json',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).canonical_path).toBe('/b');
  });

  test('-o json shape is stable', async () => {
    const r = await check(
      '--binary',
      '/usr/bin/curl',
      '--url',
      'https://api.github.com/a?x=1',
      '-o',
      'json',
    );
    expect(Object.keys(JSON.parse(r.stdout))).toMatchInlineSnapshot(`
      [
        "action",
        "layer",
        "policy",
        "policy_name",
        "rule",
        "reason",
        "binary",
        "matched_binary",
        "host",
        "port",
        "method",
        "path",
        "canonical_path",
      ]
    `);
  });

  test.for([
    [
      ['--binary', 'curl', '--url', 'https://api.github.com/'],
      /--binary curl: must be an absolute path/,
    ],
    [['--binary', '/usr/bin/curl', '--url', 'ftp://x/'], /--url "ftp:\/\/x\/": not an http/],
    [['--binary', '/usr/bin/curl', '--url', 'https://x:99999/'], /port "99999" is not 1\.\.65535/],
    [
      ['--binary', '/usr/bin/curl'],
      /Exactly one of the following must be provided: --host, --url|--url/,
    ],
    [
      ['--binary', '/usr/bin/git', '--host', 'github.com', '--port', '443', '--method', 'POST'],
      /--method needs --url/,
    ],
  ] as const)('bad arguments exit 2: %s', async ([args, message]) => {
    const r = await check(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test('an invalid policy exits 2 and lists its diagnostics', async () => {
    const r = await runCli([
      'policy',
      'check',
      file('invalid.yaml'),
      '--binary',
      '/usr/bin/curl',
      '--host',
      'a.com',
      '--port',
      '443',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a valid policy:\n.*invalid\.yaml:5:\d+ /);
  });
});
