import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { formatDiagnostic, hashPolicy, parsePolicy, policyToYaml } from './index.js';

// packages/policy-schema/src → /work/shared (CI clones shared/ beside the repository).
const COMPAT_DIR = fileURLToPath(
  new URL('../../../../shared/compat/openshell-policies/', import.meta.url),
);
const NOT_SUPPORTED = new Set([
  'supervisor-middleware-content-guard.yaml',
  'transparent-tcp-redis.yaml',
]);
const files = readdirSync(COMPAT_DIR)
  .filter((name) => name.endsWith('.yaml'))
  .sort();

function parse(name: string): ReturnType<typeof parsePolicy> {
  return parsePolicy(readFileSync(`${COMPAT_DIR}${name}`, 'utf8'), { file: name });
}

describe('OpenShell compatibility corpus', () => {
  test('is present', () => {
    expect(files.length).toBeGreaterThanOrEqual(9);
    for (const name of NOT_SUPPORTED) expect(files).toContain(name);
  });

  test.for(files.filter((name) => !NOT_SUPPORTED.has(name)))(
    '%s parses, validates and round-trips',
    (name) => {
      const result = parse(name);
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      expect(errors.map(formatDiagnostic)).toEqual([]);
      if (result.policy === undefined) throw new Error('no policy');
      const again = parsePolicy(policyToYaml(result.policy)).policy;
      expect(again && hashPolicy(again)).toBe(hashPolicy(result.policy));
    },
  );

  test('network_middlewares is "not supported yet", with its line', () => {
    const result = parse('supervisor-middleware-content-guard.yaml');
    expect(result.policy).toBeUndefined();
    expect(result.diagnostics.map(formatDiagnostic)).toMatchInlineSnapshot(`
      [
        "supervisor-middleware-content-guard.yaml:6:1 network_middlewares: "network_middlewares" (supervisor middleware) is not supported yet — remove the section (requests pass through no middleware here)",
      ]
    `);
  });

  test('protocol: tcp is "not supported yet", with its line', () => {
    const result = parse('transparent-tcp-redis.yaml');
    expect(result.policy).toBeUndefined();
    expect(result.diagnostics.map(formatDiagnostic)).toMatchInlineSnapshot(`
      [
        "transparent-tcp-redis.yaml:19:19 network_policies.redis.endpoints[0].protocol: protocol "tcp" (transparent TCP) is not supported yet — remove protocol for an L4-only endpoint, or use protocol: rest for HTTP rules",
      ]
    `);
  });

  test('the quickstart keeps its fields', () => {
    const policy = parse('sandbox-policy-quickstart.yaml').policy;
    expect(policy?.network_policies['github_api']).toEqual({
      id: 'github_api',
      name: 'github-api-readonly',
      endpoints: [
        {
          host: 'api.github.com',
          ports: [443],
          protocol: 'rest',
          tls: 'auto',
          enforcement: 'enforce',
          access: 'read-only',
          rules: [
            { method: 'GET', path: '**' },
            { method: 'HEAD', path: '**' },
            { method: 'OPTIONS', path: '**' },
          ],
          deny_rules: [],
          allowed_ips: [],
          allow_encoded_slash: false,
          request_body_credential_rewrite: false,
        },
      ],
      binaries: [{ path: '/usr/bin/curl' }],
    });
    expect(policy?.filesystem_policy.read_only).toContain('/app');
    expect(policy?.process).toEqual({ run_as_user: 'sandbox', run_as_group: 'sandbox' });
  });
});
