import { describe, expect, test } from 'vitest';
import {
  formatPolicyDocument,
  formatPolicyHeader,
  hashPolicy,
  parsePolicy,
  stripPolicyHeader,
  type PolicyDocumentMeta,
} from './index.js';
import { parseValid, yaml } from './test-helpers/policy-text.js';

const POLICY_TEXT = yaml`
  version: 1
  network_policies:
    github_api:
      name: github-api
      endpoints:
        - { host: api.github.com, port: 443, protocol: rest, access: read-only }
      binaries: [{ path: /usr/bin/curl }]
`;

function metaFor(text: string, extra: Partial<PolicyDocumentMeta> = {}): PolicyDocumentMeta {
  return {
    version: 3,
    hash: hashPolicy(parseValid(text)),
    status: 'Loaded',
    active: 3,
    createdAt: Date.UTC(2026, 10, 27, 10, 15, 2),
    ...extra,
  };
}

describe('formatPolicyDocument', () => {
  test('prints the `policy get --full` layout', () => {
    const policy = parseValid(POLICY_TEXT);
    const text = formatPolicyDocument(metaFor(POLICY_TEXT, { hash: 'f'.repeat(64) }), policy);
    expect(text).toMatchInlineSnapshot(`
      "Version:      3
      Hash:         ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
      Status:       Loaded
      Active:       3
      Created:      2026-11-27 10:15:02 UTC
      ---
      version: 1
      filesystem_policy:
        include_workdir: true
        read_only: [/usr, /lib, /etc, /proc, /dev/urandom]
        read_write: [/sandbox, /tmp, /dev/null]
      landlock:
        compatibility: best_effort
      process:
        run_as_user: sandbox
        run_as_group: sandbox
      network_policies:
        github_api:
          name: github-api
          endpoints:
            - host: api.github.com
              port: 443
              protocol: rest
              enforcement: enforce
              access: read-only
          binaries:
            - {path: /usr/bin/curl}
      "
    `);
  });

  test('adds Loaded and Error lines when known, on one line each', () => {
    const header = formatPolicyHeader(
      metaFor(POLICY_TEXT, {
        hash: '0'.repeat(64),
        status: 'Failed',
        active: null,
        loadedAt: new Date(Date.UTC(2026, 10, 27, 10, 15, 3)),
        error: 'proxy refused:\n  bad matcher',
      }),
    );
    expect(header).toMatchInlineSnapshot(`
      "Version:      3
      Hash:         0000000000000000000000000000000000000000000000000000000000000000
      Status:       Failed
      Active:       -
      Created:      2026-11-27 10:15:02 UTC
      Loaded:       2026-11-27 10:15:03 UTC
      Error:        proxy refused: bad matcher"
    `);
  });

  test('an invalid timestamp is an internal error, not a garbled header', () => {
    expect(() => formatPolicyHeader(metaFor(POLICY_TEXT, { createdAt: Number.NaN }))).toThrow(
      expect.objectContaining({ code: 'ERR_INTERNAL' }) as Error,
    );
  });
});

describe('stripPolicyHeader', () => {
  test('format → strip → parse round-trips to the same hash, keeping line numbers', () => {
    const policy = parseValid(POLICY_TEXT);
    const full = formatPolicyDocument(metaFor(POLICY_TEXT), policy);
    const { text, stripped } = stripPolicyHeader(full);
    expect(stripped).toBe(true);
    expect(text.split('\n')).toHaveLength(full.split('\n').length);
    const reparsed = parsePolicy(text);
    expect(reparsed.diagnostics).toEqual([]);
    expect(reparsed.policy && hashPolicy(reparsed.policy)).toBe(hashPolicy(policy));
  });

  test('diagnostics in a stripped file point at the original lines', () => {
    const full =
      'Version:      3\nHash:         x\nStatus:       Loaded\n---\nversion: 1\nprocess: { run_as_user: root }\n';
    const { text } = stripPolicyHeader(full);
    expect(parsePolicy(text).diagnostics.map((d) => [d.line, d.code])).toEqual([
      [6, 'ERR_POLICY_RUN_AS_ROOT'],
    ]);
  });

  test('CRLF line endings survive', () => {
    const { text, stripped } = stripPolicyHeader('Version: 1\r\n---\r\nversion: 1\r\n');
    expect(stripped).toBe(true);
    expect(text).toBe('\r\n---\r\nversion: 1\r\n');
    expect(parsePolicy(text).policy).toBeDefined();
  });

  test.for([
    ['a plain policy', 'version: 1\nnetwork_policies: {}\n'],
    ['a document marker without a header', '---\nversion: 1\n'],
    ['a header without a separator', 'Version: 3\nversion: 1\n'],
    ['a lower-case version key first', 'version: 1\n---\n'],
    ['an empty text', ''],
  ] as const)('leaves %s unchanged', ([, input]) => {
    expect(stripPolicyHeader(input)).toEqual({ text: input, stripped: false });
  });
});
