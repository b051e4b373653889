/**
 * Policies the decision tables run against. Each network policy exercises one rule of the
 * language; the tables in src/decide/*.test.ts name the host to pick it.
 */
import type { Decision, DecisionRequest } from '../types.js';
import { makePolicy, rule } from './policy-fixtures.js';

export const CURL = '/usr/bin/curl';
export const WGET = '/usr/bin/wget';

/** Host, port and binary matching (no L7 rules except where `inspect` is tested). */
export const L4_POLICY = makePolicy({
  github_api: { name: 'github-api', endpoints: [{ host: 'api.github.com' }], binaries: [CURL] },
  web: { endpoints: [{ host: 'example.org', ports: [80, 443] }], binaries: [WGET, CURL] },
  one_label: { endpoints: [{ host: '*.one.test' }], binaries: [CURL] },
  many_labels: { endpoints: [{ host: '**.many.test' }], binaries: [CURL] },
  in_label: { endpoints: [{ host: '*-aiplatform.googleapis.com' }], binaries: [CURL] },
  middle_label: { endpoints: [{ host: '*.s3.*.amazonaws.com' }], binaries: [CURL] },
  ipv4: { endpoints: [{ host: '10.0.5.7', ports: [8080] }], binaries: [CURL] },
  ipv6: {
    endpoints: [{ host: '[2001:DB8::1]' }, { host: 'fd00:0:0:0:0:0:0:10' }],
    binaries: [CURL],
  },
  java: { endpoints: [{ host: 'maven.test' }], binaries: ['/usr/lib/jvm/*/bin/java'] },
  node_any_depth: { endpoints: [{ host: 'npm.test' }], binaries: ['/opt/**/bin/node'] },
  python: {
    endpoints: [{ host: 'pypi.test' }],
    binaries: ['/usr/bin/python3.?', '/usr/local/bin/python3.[0-9][0-9]'],
  },
  not_x: { endpoints: [{ host: 'class.test' }], binaries: ['/usr/bin/tool[!x]'] },
  any_binary: { endpoints: [{ host: 'any.test' }], binaries: ['/**'] },
  no_binaries: { endpoints: [{ host: 'nobody.test' }], binaries: [] },
  claude: { endpoints: [{ host: 'api.anthropic.com' }], binaries: ['/usr/local/bin/claude'] },
  shared_curl: { endpoints: [{ host: 'shared.test' }], binaries: [CURL] },
  shared_wget: { endpoints: [{ host: 'shared.test' }], binaries: [WGET] },
  inspected: { endpoints: [{ host: 'rest.test', access: 'read-only' }], binaries: [CURL] },
  mixed_rest: { endpoints: [{ host: 'mixed.test', access: 'read-only' }], binaries: [CURL] },
  mixed_l4: { endpoints: [{ host: 'mixed.test' }], binaries: [CURL] },
  order_wild: { endpoints: [{ host: '*.order.test' }], binaries: [CURL] },
  order_exact: { endpoints: [{ host: 'api.order.test' }], binaries: [CURL] },
});

/** Method, path, query and deny-rule matching; path canonicalisation; audit. */
export const L7_POLICY = makePolicy({
  github: {
    name: 'github-api',
    endpoints: [
      {
        host: 'api.github.com',
        rules: [
          'GET /repos/**',
          'POST /repos/*/*/issues',
          rule('GET /search/code', { q: 'repo:*' }),
          rule('GET /search/issues', { state: ['open', 'closed'], q: '*' }),
          'PUT /user/starred/*/*',
          '* /gists/**',
          'get /lower/**',
        ],
        deny: [
          'DELETE /repos/**',
          'GET /repos/*/*/actions/secrets/**',
          rule('GET /repos/**', { ref: 'refs/heads/secret*' }),
        ],
      },
    ],
    binaries: [CURL, '/usr/bin/gh'],
  },
  admin: {
    endpoints: [
      { host: 'admin.test', rules: ['* /**'], deny: ['* /admin/**', 'POST /repos/*/*/admin'] },
    ],
    binaries: [CURL],
  },
  read_only: { endpoints: [{ host: 'ro.test', access: 'read-only' }], binaries: [CURL] },
  read_write: { endpoints: [{ host: 'rw.test', access: 'read-write' }], binaries: [CURL] },
  full: { endpoints: [{ host: 'full.test', access: 'full' }], binaries: [CURL] },
  globs: {
    endpoints: [
      {
        host: 'globs.test',
        rules: [
          'GET /one/*',
          'GET /two/**',
          'GET /mid/*/end',
          'GET /deep/**/end',
          'GET /file?.txt',
          'GET /v[0-9]/status',
          'GET /x[!a]y',
          'GET /**/info/refs*',
        ],
      },
    ],
    binaries: [CURL],
  },
  audited: {
    endpoints: [
      {
        host: 'audit.test',
        enforcement: 'audit',
        rules: ['GET /ok/**'],
        deny: ['GET /ok/secret/**', 'DELETE /**'],
      },
    ],
    binaries: [CURL],
  },
  p_audit: {
    endpoints: [{ host: 'mixed-audit.test', enforcement: 'audit', rules: ['GET /a/**'] }],
    binaries: [CURL],
  },
  p_enforce: {
    endpoints: [{ host: 'mixed-audit.test', rules: ['GET /b/**'] }],
    binaries: [CURL],
  },
  both_rest: { endpoints: [{ host: 'both.test', rules: ['GET /only/**'] }], binaries: [CURL] },
  both_l4: { endpoints: [{ host: 'both.test' }], binaries: [CURL] },
  split_rest: { endpoints: [{ host: 'split.test', rules: ['GET /only/**'] }], binaries: [CURL] },
  split_l4: { endpoints: [{ host: 'split.test' }], binaries: [WGET] },
  encoded: {
    endpoints: [{ host: 'npm.test', allowEncodedSlash: true, rules: ['GET /*', 'GET /lit/a%2Fb'] }],
    binaries: [CURL],
  },
  enc_yes: {
    endpoints: [{ host: 'enc-mixed.test', allowEncodedSlash: true, rules: ['GET /**'] }],
    binaries: [CURL],
  },
  enc_no: { endpoints: [{ host: 'enc-mixed.test', rules: ['GET /**'] }], binaries: [CURL] },
  query: {
    endpoints: [
      {
        host: 'q.test',
        rules: [rule('GET /list', { per_page: ['1*', '2*'], page: '*' }), 'GET /export'],
        deny: [
          rule('GET /list', { debug: 'true' }),
          rule('GET /export', { format: 'csv', scope: 'all' }),
        ],
      },
    ],
    binaries: [CURL],
  },
});

/** One row of a decision table: what is asked and the parts of the answer that matter. */
export interface DecisionCase {
  readonly name: string;
  readonly req: DecisionRequest;
  readonly expected: Partial<Decision>;
  /** Substrings the human-readable reason must contain. */
  readonly reason?: readonly string[];
}

/** Shorthand for an L7 request on port 443 from curl. */
export function http(
  host: string,
  method: string,
  target: string,
  binary: string = CURL,
  ancestors: readonly string[] = [],
): DecisionRequest {
  return { host, port: 443, binary, ancestors, method, target };
}

/** Shorthand for an L4 request. */
export function connect(
  host: string,
  port = 443,
  binary: string = CURL,
  ancestors: readonly string[] = [],
): DecisionRequest {
  return { host, port, binary, ancestors };
}
