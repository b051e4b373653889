import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY, parsePolicy } from '../index.js';
import {
  allCodes,
  errorCodes,
  errorsOf,
  parseValid,
  render,
  yaml,
} from '../test-helpers/policy-text.js';

describe('parsePolicy: the YAML text', () => {
  test('a syntax error has a position and no policy', () => {
    const result = parsePolicy('version: 1\nnetwork_policies: { api: [1, 2 }\n', {
      file: 'p.yaml',
    });
    expect(result.policy).toBeUndefined();
    expect(render('version: 1\nnetwork_policies: { api: [1, 2 }\n')).toMatchInlineSnapshot(`
      "policy.yaml:2:32 network_policies.api: Flow sequence in block collection must be sufficiently indented and end with a ] (YAML BAD_INDENT)
      policy.yaml:2:33 Flow map in block collection must be sufficiently indented and end with a } (YAML BAD_INDENT)"
    `);
  });

  test('a duplicate key names the key and its path', () => {
    const text = yaml`
      version: 1
      network_policies:
        api:
          endpoints: [{ host: a.example.com, port: 443 }]
          endpoints: [{ host: b.example.com, port: 443 }]
    `;
    expect(render(text)).toMatchInlineSnapshot(
      `"policy.yaml:5:5 network_policies.api.endpoints: duplicate key "endpoints" — each key may appear once in a mapping; merge the two entries"`,
    );
    expect(
      errorCodes(text.replace('endpoints: [{ host: b', 'binaries: [{ path: /b }]\n#')),
    ).toEqual([]);
  });

  test('a leftover `policy get --full` header is explained', () => {
    const text = 'Version:      3\nHash:         abc\n---\nversion: 1\n';
    expect(render(text)).toMatchInlineSnapshot(
      `"policy.yaml:3:1 more than one YAML document — this looks like \`openshell policy get --full\` output — delete the header lines above "---" (policy set strips them itself)"`,
    );
  });

  test('tabs used for indentation are a syntax error', () => {
    expect(errorCodes('version: 1\nprocess:\n\trun_as_user: sandbox\n')).toEqual([
      'ERR_POLICY_YAML_SYNTAX',
    ]);
  });

  test('an empty text, a comment-only text and a non-mapping are refused', () => {
    expect(render('')).toMatchInlineSnapshot(
      `"policy.yaml:1:1 policy is empty — a policy needs at least "version: 1""`,
    );
    expect(errorCodes('# nothing here\n')).toEqual(['ERR_POLICY_EMPTY']);
    expect(render('- version: 1\n')).toMatchInlineSnapshot(
      `"policy.yaml:1:1 a policy is a mapping of sections (version, filesystem_policy, network_policies, ...)"`,
    );
    expect(errorCodes('just a string\n')).toEqual(['ERR_POLICY_TYPE']);
  });

  test('explicit YAML tags outside the core schema are refused', () => {
    expect(render('version: 1\nprocess: !!set { run_as_user }\n')).toMatchInlineSnapshot(
      `"policy.yaml:2:16 process: YAML tag !!set is not allowed in a policy — remove the tag and write a plain value"`,
    );
    expect(errorCodes('version: !!int "1"\n')).toEqual([]);
  });

  test('%YAML 1.1 does not turn words into booleans', () => {
    // Under YAML 1.1 `on` would be the boolean true and pass as include_workdir.
    expect(
      errorCodes('%YAML 1.1\n---\nversion: 1\nfilesystem_policy: { include_workdir: on }\n'),
    ).toEqual(['ERR_POLICY_TYPE']);
  });

  test('non-string keys are refused', () => {
    expect(render('version: 1\n? [a, b]\n: c\n')).toMatchInlineSnapshot(
      `"policy.yaml:2:3 mapping keys must be plain strings — quote the key or remove the "?" form"`,
    );
  });

  test('aliases are expanded, but alias bombs and recursive aliases are refused', () => {
    const shared = yaml`
      version: 1
      network_policies:
        a: &rule
          endpoints: [{ host: a.example.com, port: 443 }]
          binaries: [{ path: /usr/bin/curl }]
        b: *rule
    `;
    expect(Object.keys(parseValid(shared).network_policies)).toEqual(['a', 'b']);
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i += 1) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array.from({ length: 10 }, () => `*${prev}`).join(', ')}]`);
    }
    expect(errorCodes(`${levels.join('\n')}\n`)).toEqual(['ERR_POLICY_TOO_LARGE']);
    expect(errorCodes('version: 1\nx: &x [*x]\n')).toContain('ERR_POLICY_YAML_SYNTAX');
  });

  test('deep nesting is refused without a stack overflow', () => {
    const deep = `version: 1\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    const codes = errorCodes(deep);
    expect(codes.length).toBeGreaterThan(0);
    expect(codes).not.toContain('ERR_POLICY_INTERNAL');
  });

  test('text over 1 MiB is refused before parsing', () => {
    expect(render(`version: 1\n#${'x'.repeat(1024 * 1024)}\n`)).toMatchInlineSnapshot(
      `"policy.yaml:1:1 policy is 1048589 characters long — at most 1048576 are accepted"`,
    );
    expect(errorCodes(`version: 1\n#${'x'.repeat(1000 * 1024)}\n`)).toEqual([]);
  });

  test('a non-string input is a diagnostic, not an exception', () => {
    const result = parsePolicy(undefined as unknown as string);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['ERR_POLICY_TYPE']);
  });
});

describe('parsePolicy: structure', () => {
  test('version must be present and 1', () => {
    expect(render('network_policies: {}\n')).toMatchInlineSnapshot(
      `"policy.yaml:1:1 version: missing "version: 1" — add it as the first line"`,
    );
    expect(render('version: 2\n')).toMatchInlineSnapshot(
      `"policy.yaml:1:10 version: version must be 1 (the only policy language version)"`,
    );
    expect(errorCodes('version: "1"\n')).toEqual(['ERR_POLICY_VERSION']);
    expect(errorCodes('version: 1\n')).toEqual([]);
  });

  test('an unknown key is refused at the key, with a suggestion', () => {
    const text = yaml`
      version: 1
      filesystem_policy:
        read_onyl: [/usr]
    `;
    expect(render(text)).toMatchInlineSnapshot(
      `"policy.yaml:3:3 filesystem_policy.read_onyl: unknown key "read_onyl" — did you mean "read_only"?"`,
    );
    expect(errorCodes(text.replace('read_onyl', 'read_only'))).toEqual([]);
  });

  test('an unknown top-level key lists the sections', () => {
    expect(render('version: 1\nnetwork: {}\n')).toMatchInlineSnapshot(
      `"policy.yaml:2:1 network: unknown key "network" — allowed keys: version, filesystem_policy, landlock, process, network_policies, inference"`,
    );
  });

  test('a section of the wrong type is refused', () => {
    expect(render('version: 1\nnetwork_policies:\n')).toMatchInlineSnapshot(
      `"policy.yaml:2:1 network_policies: expected a mapping, got null — write "{}" for an empty mapping, or remove the key"`,
    );
    expect(render('version: 1\nlandlock: { compatibility: strict }\n')).toMatchInlineSnapshot(
      `"policy.yaml:2:28 landlock.compatibility: compatibility "strict" is not allowed — use one of "best_effort", "hard_requirement""`,
    );
  });

  test('diagnostics are sorted by position and carry expected/actual', () => {
    const text = yaml`
      version: 1
      process: { run_as_user: root }
      filesystem_policy: { read_write: [tmp] }
    `;
    const result = parsePolicy(text, { file: 'x.yaml' });
    expect(result.diagnostics).toEqual([
      {
        file: 'x.yaml',
        line: 2,
        column: 25,
        path: 'process.run_as_user',
        code: 'ERR_POLICY_RUN_AS_ROOT',
        message: expect.stringContaining('root') as string,
        expected: '"sandbox" or a uid 1..4294967294',
        actual: '"root"',
        severity: 'error',
      },
      expect.objectContaining({
        line: 3,
        column: 35,
        code: 'ERR_POLICY_PATH_NOT_ABSOLUTE',
        actual: '"tmp"',
      }),
    ]);
  });

  test('the file name defaults to <input>', () => {
    expect(parsePolicy('version: 2\n').diagnostics[0]?.file).toBe('<input>');
  });

  test('warnings do not block the policy', () => {
    const text = yaml`
      version: 1
      network_policies:
        api:
          endpoints: [{ host: api.example.com, port: 443, tls: passthrough }]
    `;
    const result = parsePolicy(text);
    expect(result.diagnostics.map((d) => [d.severity, d.code])).toEqual([
      ['warning', 'WARN_POLICY_NO_BINARIES'],
      ['warning', 'WARN_POLICY_TLS_NOOP'],
    ]);
    expect(result.policy).toBeDefined();
    expect(errorsOf(result)).toEqual([]);
  });
});

describe('parsePolicy: sections and defaults', () => {
  test('sections lists the top-level sections the text contains, in canonical order', () => {
    const text = yaml`
      version: 1
      network_policies: {}
      landlock: { compatibility: hard_requirement }
    `;
    expect(parsePolicy(text).sections).toEqual(['landlock', 'network_policies']);
    expect(parsePolicy('version: 1\n').sections).toEqual([]);
  });

  test('absent sections take the default policy', () => {
    expect(parseValid('version: 1\n')).toEqual(DEFAULT_POLICY);
  });

  test('a present filesystem section does not merge the default lists in', () => {
    const policy = parseValid('version: 1\nfilesystem_policy: { read_only: [/usr] }\n');
    expect(policy.filesystem_policy).toEqual({
      include_workdir: true,
      read_only: ['/usr'],
      read_write: ['/sandbox'],
    });
    expect(allCodes('version: 1\nfilesystem_policy: { include_workdir: false }\n')).toEqual([]);
  });
});
