import { describe, expect, test } from 'vitest';
import { allCodes, errorCodes, parseValid, render, yaml } from '../test-helpers/policy-text.js';

function inference(body: string): string {
  return `version: 1\ninference:\n${body
    .trim()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')}\n`;
}

const ROUTES =
  'routes:\n  local: { kind: local }\n  claude: { kind: frontier, models: [claude-sonnet] }';

describe('inference', () => {
  test('default_route must be one of routes', () => {
    expect(render(inference(`default_route: gpt\n${ROUTES}`))).toMatchInlineSnapshot(
      `"policy.yaml:3:18 inference.default_route: default_route "gpt" is not one of routes (local, claude) — add it to routes or pick one of them"`,
    );
    expect(errorCodes(inference(`default_route: local\n${ROUTES}`))).toEqual([]);
  });

  test('empty routes are refused through default_route', () => {
    expect(render(inference('default_route: local\nroutes: {}'))).toMatchInlineSnapshot(
      `"policy.yaml:3:18 inference.default_route: default_route "local" is not one of routes (routes is empty) — add it to routes or pick one of them"`,
    );
  });

  test('a sensitivity rule needs exactly one of builtin and pattern', () => {
    const both = inference(`
default_route: local
${ROUTES}
sensitivity:
  - { name: keys, builtin: private_keys, pattern: "BEGIN", action: refuse }
  - { name: nothing, action: refuse }
`);
    expect(render(both)).toMatchInlineSnapshot(`
      "policy.yaml:8:7 inference.sensitivity[0]: sensitivity rule sets both builtin and pattern — set exactly one: "builtin: secrets|private_keys" or "pattern: <regex>"
      policy.yaml:9:7 inference.sensitivity[1]: sensitivity rule sets neither builtin nor pattern — set exactly one: "builtin: secrets|private_keys" or "pattern: <regex>""
    `);
    const one = inference(
      `default_route: local\n${ROUTES}\nsensitivity:\n  - { name: keys, builtin: private_keys, action: refuse }`,
    );
    expect(errorCodes(one)).toEqual([]);
  });

  test('a pattern must compile', () => {
    const bad = inference(
      `default_route: local\n${ROUTES}\nsensitivity:\n  - { name: ids, pattern: "ACME-[0-9", action: keep_local }`,
    );
    expect(render(bad)).toMatchInlineSnapshot(
      `"policy.yaml:8:29 inference.sensitivity[0].pattern: pattern is not a valid regular expression (Invalid regular expression: /ACME-[0-9/u: Unterminated character class) — fix the expression; it is compiled with the "u" flag"`,
    );
    const good = inference(
      `default_route: local\n${ROUTES}\nsensitivity:\n  - { name: ids, pattern: "ACME-[0-9]+", action: keep_local }`,
    );
    expect(errorCodes(good)).toEqual([]);
  });

  test('an empty pattern is refused', () => {
    const bad = inference(
      `default_route: local\n${ROUTES}\nsensitivity:\n  - { name: ids, pattern: "", action: refuse }`,
    );
    expect(errorCodes(bad)).toEqual(['ERR_POLICY_INVALID_PATTERN']);
  });

  test('sensitivity names must be unique', () => {
    const dup = inference(
      `default_route: local\n${ROUTES}\nsensitivity:\n  - { name: a, builtin: secrets, action: refuse }\n  - { name: a, builtin: private_keys, action: refuse }`,
    );
    expect(render(dup)).toMatchInlineSnapshot(
      `"policy.yaml:9:15 inference.sensitivity[1].name: sensitivity rule name "a" is used twice — names identify rules in logs; make them unique"`,
    );
    expect(
      errorCodes(
        dup.replace('{ name: a, builtin: private_keys', '{ name: b, builtin: private_keys'),
      ),
    ).toEqual([]);
  });

  test('keep_local without a local route warns', () => {
    const text = inference(
      'default_route: claude\nroutes:\n  claude: { kind: frontier }\nsensitivity:\n  - { name: s, builtin: secrets, action: keep_local }',
    );
    expect(render(text)).toMatchInlineSnapshot(
      `"policy.yaml:7:44 inference.sensitivity[0].action: warning: action keep_local but no route has kind: local — matching requests will be refused; add a local route"`,
    );
    expect(allCodes(text.replace('claude: { kind: frontier }', 'claude: { kind: local }'))).toEqual(
      [],
    );
  });

  test.for([
    ['routes:\n  local: { kind: remote }', 'ERR_POLICY_INVALID_VALUE'],
    ['routes:\n  local: {}', 'ERR_POLICY_MISSING_KEY'],
    ['routes:\n  local: { kind: local, models: gpt }', 'ERR_POLICY_TYPE'],
    [
      'routes:\n  local: { kind: local }\nsensitivity:\n  - { name: s, builtin: passwords, action: refuse }',
      'ERR_POLICY_INVALID_VALUE',
    ],
    [
      'routes:\n  local: { kind: local }\nsensitivity:\n  - { name: s, builtin: secrets, action: drop }',
      'ERR_POLICY_INVALID_VALUE',
    ],
    [
      'routes:\n  local: { kind: local }\nsensitivity:\n  - { builtin: secrets, action: refuse }',
      'ERR_POLICY_MISSING_KEY',
    ],
  ] as const)('%s → %s', ([body, code]) => {
    expect(errorCodes(inference(`default_route: local\n${body}`))).toEqual([code]);
  });

  test('is normalised with defaults and kept absent when absent', () => {
    const policy = parseValid(
      inference(
        `default_route: local\n${ROUTES}\nsensitivity:\n  - { name: s, builtin: secrets, action: keep_local }`,
      ),
    );
    expect(policy.inference).toEqual({
      default_route: 'local',
      routes: {
        local: { kind: 'local', models: [] },
        claude: { kind: 'frontier', models: ['claude-sonnet'] },
      },
      sensitivity: [{ name: 's', builtin: 'secrets', action: 'keep_local' }],
    });
    expect(
      parseValid(yaml`
      version: 1
    `).inference,
    ).toBeUndefined();
  });
});
