import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { formatDiagnostic, hashPolicy, parsePolicy, policyToYaml } from './index.js';

// packages/policy-schema/src → the repository's examples/policies.
const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/policies/', import.meta.url));
const files = readdirSync(EXAMPLES_DIR)
  .filter((name) => name.endsWith('.yaml'))
  .sort();
const valid = files.filter((name) => !name.startsWith('invalid-'));
const invalid = files.filter((name) => name.startsWith('invalid-'));

function read(name: string): string {
  return readFileSync(`${EXAMPLES_DIR}${name}`, 'utf8');
}

/** The codes an invalid example declares in its `# expect: A, B` line. */
function expectedCodes(text: string): string[] {
  const line = /^# expect: (.+)$/m.exec(text)?.[1];
  return (line ?? '')
    .split(',')
    .map((code) => code.trim())
    .filter((code) => code !== '')
    .sort();
}

describe('examples/policies', () => {
  test('holds at least 10 policies, valid and invalid ones', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(valid.length).toBeGreaterThanOrEqual(6);
    expect(invalid.length).toBeGreaterThanOrEqual(6);
  });

  test.for(valid)('%s is valid and round-trips through policyToYaml', (name) => {
    const result = parsePolicy(read(name), { file: name });
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map(formatDiagnostic)).toEqual([]);
    if (result.policy === undefined) throw new Error('no policy');
    const again = parsePolicy(policyToYaml(result.policy)).policy;
    expect(again && hashPolicy(again)).toBe(hashPolicy(result.policy));
  });

  test.for(invalid)('%s fails with exactly the codes it declares', (name) => {
    const text = read(name);
    const declared = expectedCodes(text);
    expect(declared.length).toBeGreaterThan(0);
    const result = parsePolicy(text, { file: name });
    expect(result.policy).toBeUndefined();
    const codes = result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
    expect(codes.sort()).toEqual(declared);
  });
});
