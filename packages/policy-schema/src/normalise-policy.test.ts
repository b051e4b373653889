import { describe, expect, test } from 'vitest';
import { ACCESS_PRESET_METHODS, type Endpoint } from './index.js';
import { endpointPolicy, parseValid, yaml } from './test-helpers/policy-text.js';

function endpointOf(lines: string): Endpoint {
  const endpoint = parseValid(endpointPolicy(lines)).network_policies['api']?.endpoints[0];
  if (endpoint === undefined) throw new Error('no endpoint');
  return endpoint;
}

describe('normalisation', () => {
  test('an L4 endpoint gets every default', () => {
    expect(endpointOf('host: API.Example.com\nport: 443')).toEqual({
      host: 'api.example.com',
      ports: [443],
      tls: 'auto',
      enforcement: 'enforce',
      rules: [],
      deny_rules: [],
      allowed_ips: [],
      allow_encoded_slash: false,
      request_body_credential_rewrite: false,
    });
  });

  test.for([
    ['read-only', ['GET', 'HEAD', 'OPTIONS']],
    ['read-write', ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH']],
    ['full', ['*']],
  ] as const)(
    'access %s expands to %j on path ** and implies protocol rest',
    ([access, methods]) => {
      const endpoint = endpointOf(`host: api.example.com\nport: 443\naccess: ${access}`);
      expect(endpoint.protocol).toBe('rest');
      expect(endpoint.access).toBe(access);
      expect(endpoint.rules).toEqual(methods.map((method) => ({ method, path: '**' })));
      expect(ACCESS_PRESET_METHODS[access]).toEqual(methods);
    },
  );

  test('rules without protocol imply rest; methods are upper-cased; query strings become lists', () => {
    const endpoint = endpointOf(`
      host: api.example.com
      port: 443
      rules:
        - allow: { method: get, path: /repos/**, query: { per_page: "*", sort: { any: [asc, desc] } } }
        - allow: { method: post, path: /search, query: {} }
      deny_rules:
        - { method: delete, path: /repos/*/*, query: { force: "true" } }
    `);
    expect(endpoint.protocol).toBe('rest');
    expect(endpoint.access).toBeUndefined();
    expect(endpoint.rules).toEqual([
      { method: 'GET', path: '/repos/**', query: { per_page: ['*'], sort: ['asc', 'desc'] } },
      { method: 'POST', path: '/search' },
    ]);
    expect(endpoint.deny_rules).toEqual([
      { method: 'DELETE', path: '/repos/*/*', query: { force: ['true'] } },
    ]);
  });

  test('explicit endpoint fields are kept', () => {
    const endpoint = endpointOf(`
      host: db.example.com
      ports: [5432, 5433]
      tls: skip
      enforcement: audit
      allowed_ips: [10.0.5.0/24]
      request_body_credential_rewrite: false
    `);
    expect(endpoint).toMatchObject({
      ports: [5432, 5433],
      tls: 'skip',
      enforcement: 'audit',
      allowed_ips: ['10.0.5.0/24'],
    });
    expect(endpoint.protocol).toBeUndefined();
  });

  test('include_workdir adds /sandbox to read_write once', () => {
    const fs = (text: string): unknown => parseValid(text).filesystem_policy;
    expect(fs('version: 1\nfilesystem_policy: { read_write: [/tmp] }\n')).toEqual({
      include_workdir: true,
      read_only: [],
      read_write: ['/tmp', '/sandbox'],
    });
    expect(fs('version: 1\nfilesystem_policy: { read_write: [/sandbox/, /tmp] }\n')).toMatchObject({
      read_write: ['/sandbox', '/tmp'],
    });
    expect(
      fs('version: 1\nfilesystem_policy: { include_workdir: false, read_write: [/tmp] }\n'),
    ).toMatchObject({
      read_write: ['/tmp'],
    });
  });

  test('name defaults to the id, binaries to none, landlock to best_effort', () => {
    const policy = parseValid(yaml`
      version: 1
      landlock: {}
      network_policies:
        github: { endpoints: [{ host: github.com, port: 443 }] }
    `);
    expect(policy.landlock).toEqual({ compatibility: 'best_effort' });
    expect(policy.network_policies['github']).toMatchObject({
      id: 'github',
      name: 'github',
      binaries: [],
    });
  });
});
