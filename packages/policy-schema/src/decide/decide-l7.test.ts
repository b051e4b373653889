import { describe, expect, test } from 'vitest';
import { compilePolicy, decide } from '../index.js';
import { CURL, L7_POLICY, WGET, http, type DecisionCase } from '../test-helpers/decide-fixtures.js';

const compiled = compilePolicy(L7_POLICY);

const allow = (rule: string, extra: object = {}) => ({
  action: 'allow' as const,
  layer: 'l7' as const,
  rule,
  ...extra,
});
const deny = (rule: string | null, extra: object = {}) => ({
  action: 'deny' as const,
  layer: 'l7' as const,
  rule,
  ...extra,
});
const audit = (rule: string) => ({ action: 'audit' as const, layer: 'l7' as const, rule });
const GH = 'api.github.com';

// Method, path globs, query, deny rules, presets. Every deny beside its positive control.
// prettier-ignore
const RULE_CASES: readonly DecisionCase[] = [
  { name: 'GET under /repos/**', req: http(GH, 'GET', '/repos/o/r'), expected: allow('GET /repos/**', { policy: 'github', policyName: 'github-api', matchedBinary: CURL, canonicalPath: '/repos/o/r' }) },
  { name: 'lower-case method', req: http(GH, 'get', '/repos/o/r'), expected: allow('GET /repos/**') },
  { name: 'mixed-case method', req: http(GH, 'Get', '/repos/o/r'), expected: allow('GET /repos/**') },
  { name: 'HEAD rides on a GET rule', req: http(GH, 'HEAD', '/repos/o/r'), expected: allow('GET /repos/**') },
  { name: 'OPTIONS does not ride on GET', req: http(GH, 'OPTIONS', '/repos/o/r'), expected: deny('OPTIONS /repos/o/r', { policy: 'github', policyName: 'github-api' }), reason: ['OPTIONS /repos/o/r not permitted by policy github on api.github.com:443', 'allowed: GET /repos/**'] },
  { name: 'POST on the issues rule', req: http(GH, 'POST', '/repos/o/r/issues'), expected: allow('POST /repos/*/*/issues') },
  { name: 'POST elsewhere: default deny names the request', req: http(GH, 'POST', '/repos/o/r/pulls'), expected: deny('POST /repos/o/r/pulls', { policy: 'github', canonicalPath: '/repos/o/r/pulls' }) },
  { name: '* stays within one segment', req: http(GH, 'POST', '/repos/o/r/x/issues'), expected: deny('POST /repos/o/r/x/issues') },
  { name: 'deny rule without any allow', req: http(GH, 'DELETE', '/repos/o/r'), expected: deny('DELETE /repos/**'), reason: ['DELETE /repos/o/r blocked by deny rule "DELETE /repos/**" of policy github'] },
  { name: 'deny rule wins over GET /repos/**', req: http(GH, 'GET', '/repos/o/r/actions/secrets/TOKEN'), expected: deny('GET /repos/*/*/actions/secrets/**') },
  { name: 'deny /** covers the bare prefix', req: http(GH, 'GET', '/repos/o/r/actions/secrets'), expected: deny('GET /repos/*/*/actions/secrets/**') },
  { name: 'sibling of the denied subtree', req: http(GH, 'GET', '/repos/o/r/actions/variables'), expected: allow('GET /repos/**') },
  { name: 'deny query value', req: http(GH, 'GET', '/repos/o/r/contents?ref=refs/heads/secret-x'), expected: deny('GET /repos/**?ref=refs/heads/secret*') },
  { name: 'other query value', req: http(GH, 'GET', '/repos/o/r/contents?ref=main'), expected: allow('GET /repos/**') },
  { name: 'deny query: one bad value among good ones', req: http(GH, 'GET', '/repos/o/r/contents?ref=main&ref=refs/heads/secret1'), expected: deny('GET /repos/**?ref=refs/heads/secret*') },
  { name: 'deny query: encoded key', req: http(GH, 'GET', '/repos/o/r/contents?%72ef=refs/heads/secret'), expected: deny('GET /repos/**?ref=refs/heads/secret*') },
  { name: 'deny query: encoded value', req: http(GH, 'GET', '/repos/o/r/contents?ref=refs%2Fheads%2Fsecret'), expected: deny('GET /repos/**?ref=refs/heads/secret*') },
  { name: 'deny query: key absent', req: http(GH, 'GET', '/repos/o/r/contents?sha=refs/heads/secret'), expected: allow('GET /repos/**') },
  { name: 'allow query matches', req: http(GH, 'GET', '/search/code?q=repo:o/r'), expected: allow('GET /search/code?q=repo:*') },
  { name: 'allow query value mismatch', req: http(GH, 'GET', '/search/code?q=org:o'), expected: deny('GET /search/code') },
  { name: 'allow query key missing', req: http(GH, 'GET', '/search/code'), expected: deny('GET /search/code') },
  { name: 'allow query: every value must match', req: http(GH, 'GET', '/search/code?q=repo:a&q=org:b'), expected: deny('GET /search/code') },
  { name: 'allow query: all values match', req: http(GH, 'GET', '/search/code?q=repo:a&q=repo:b'), expected: allow('GET /search/code?q=repo:*') },
  { name: 'allow query: unlisted keys are free', req: http(GH, 'GET', '/search/code?q=repo:a&page=2'), expected: allow('GET /search/code?q=repo:*') },
  { name: 'allow query: + is a space', req: http(GH, 'GET', '/search/code?q=repo:o+r'), expected: allow('GET /search/code?q=repo:*') },
  { name: 'allow query: any of several globs (open)', req: http(GH, 'GET', '/search/issues?state=open&q=x'), expected: allow('GET /search/issues?state=open|closed&q=*') },
  { name: 'allow query: any of several globs (closed)', req: http(GH, 'GET', '/search/issues?state=closed&q=x'), expected: allow('GET /search/issues?state=open|closed&q=*') },
  { name: 'allow query: none of the globs', req: http(GH, 'GET', '/search/issues?state=all&q=x'), expected: deny('GET /search/issues') },
  { name: 'allow query: second key missing', req: http(GH, 'GET', '/search/issues?state=open'), expected: deny('GET /search/issues') },
  { name: 'allow query: empty value matches *', req: http(GH, 'GET', '/search/issues?state=open&q='), expected: allow('GET /search/issues?state=open|closed&q=*') },
  { name: 'PUT with two segments', req: http(GH, 'PUT', '/user/starred/o/r'), expected: allow('PUT /user/starred/*/*') },
  { name: 'PUT with one segment', req: http(GH, 'PUT', '/user/starred/o'), expected: deny('PUT /user/starred/o') },
  { name: 'method * admits PATCH', req: http(GH, 'PATCH', '/gists/1'), expected: allow('* /gists/**') },
  { name: 'method * admits DELETE', req: http(GH, 'DELETE', '/gists/1'), expected: allow('* /gists/**') },
  { name: 'rule written in lower case', req: http(GH, 'GET', '/lower/x'), expected: allow('GET /lower/**') },
  { name: 'unlisted binary is an L4 deny', req: http(GH, 'GET', '/repos/o/r', WGET), expected: { action: 'deny', layer: 'l4', policy: null } },
  { name: 'listed ancestor at L7', req: http(GH, 'GET', '/repos/o/r', '/usr/bin/python3', ['/usr/bin/gh']), expected: allow('GET /repos/**', { matchedBinary: '/usr/bin/gh' }) },
  // Presets.
  { name: 'read-only: GET', req: http('ro.test', 'GET', '/x'), expected: allow('GET **') },
  { name: 'read-only: HEAD', req: http('ro.test', 'HEAD', '/x'), expected: allow('GET **') },
  { name: 'read-only: OPTIONS', req: http('ro.test', 'OPTIONS', '/x'), expected: allow('OPTIONS **') },
  { name: 'read-only: POST', req: http('ro.test', 'POST', '/x'), expected: deny('POST /x') },
  { name: 'read-only: DELETE', req: http('ro.test', 'DELETE', '/x'), expected: deny('DELETE /x') },
  { name: 'read-write: POST', req: http('rw.test', 'POST', '/x'), expected: allow('POST **') },
  { name: 'read-write: PUT', req: http('rw.test', 'PUT', '/x'), expected: allow('PUT **') },
  { name: 'read-write: PATCH', req: http('rw.test', 'PATCH', '/x'), expected: allow('PATCH **') },
  { name: 'read-write: DELETE', req: http('rw.test', 'DELETE', '/x'), expected: deny('DELETE /x') },
  { name: 'full: DELETE', req: http('full.test', 'DELETE', '/x'), expected: allow('* **') },
  { name: 'full: extension method', req: http('full.test', 'PURGE', '/x'), expected: allow('* **') },
  { name: 'full: method with a space', req: http('full.test', 'GE T', '/x'), expected: deny(null), reason: ['invalid HTTP method'] },
  { name: 'full: empty method', req: http('full.test', '', '/x'), expected: deny(null) },
  // Path globs.
  { name: '/one/*: one segment', req: http('globs.test', 'GET', '/one/a'), expected: allow('GET /one/*') },
  { name: '/one/*: not two', req: http('globs.test', 'GET', '/one/a/b'), expected: deny('GET /one/a/b') },
  { name: '/two/**: the bare prefix', req: http('globs.test', 'GET', '/two'), expected: allow('GET /two/**') },
  { name: '/two/**: deep', req: http('globs.test', 'GET', '/two/a/b/c'), expected: allow('GET /two/**') },
  { name: '/two/**: not a longer name', req: http('globs.test', 'GET', '/twofold'), expected: deny('GET /twofold') },
  { name: '/mid/*/end: one middle segment', req: http('globs.test', 'GET', '/mid/x/end'), expected: allow('GET /mid/*/end') },
  { name: '/mid/*/end: two middle segments', req: http('globs.test', 'GET', '/mid/x/y/end'), expected: deny('GET /mid/x/y/end') },
  { name: '/deep/**/end: zero segments', req: http('globs.test', 'GET', '/deep/end'), expected: allow('GET /deep/**/end') },
  { name: '/deep/**/end: many segments', req: http('globs.test', 'GET', '/deep/a/b/end'), expected: allow('GET /deep/**/end') },
  { name: '/deep/**/end: something after end', req: http('globs.test', 'GET', '/deep/a/end/x'), expected: deny('GET /deep/a/end/x') },
  { name: '? one char', req: http('globs.test', 'GET', '/file1.txt'), expected: allow('GET /file?.txt') },
  { name: '? not two chars', req: http('globs.test', 'GET', '/file12.txt'), expected: deny('GET /file12.txt') },
  { name: '[0-9] digit', req: http('globs.test', 'GET', '/v2/status'), expected: allow('GET /v[0-9]/status') },
  { name: '[0-9] letter', req: http('globs.test', 'GET', '/vx/status'), expected: deny('GET /vx/status') },
  { name: '[!a] other char', req: http('globs.test', 'GET', '/xby'), expected: allow('GET /x[!a]y') },
  { name: '[!a] excluded char', req: http('globs.test', 'GET', '/xay'), expected: deny('GET /xay') },
  { name: '/**/info/refs* deep', req: http('globs.test', 'GET', '/org/repo.git/info/refs?service=git-upload-pack'), expected: allow('GET /**/info/refs*') },
  { name: '/**/info/refs* at the root', req: http('globs.test', 'GET', '/info/refs'), expected: allow('GET /**/info/refs*') },
  { name: '/**/info/refs*: * does not cross /', req: http('globs.test', 'GET', '/a/info/refs/x'), expected: deny('GET /a/info/refs/x') },
  // Query allow and deny on one endpoint.
  { name: 'query: both keys match', req: http('q.test', 'GET', '/list?per_page=10&page=1'), expected: allow('GET /list?per_page=1*|2*&page=*') },
  { name: 'query: value outside the globs', req: http('q.test', 'GET', '/list?per_page=30&page=1'), expected: deny('GET /list') },
  { name: 'query: a required key missing', req: http('q.test', 'GET', '/list?per_page=10'), expected: deny('GET /list') },
  { name: 'query deny: debug=true', req: http('q.test', 'GET', '/list?per_page=10&page=1&debug=true'), expected: deny('GET /list?debug=true') },
  { name: 'query deny: debug=false', req: http('q.test', 'GET', '/list?per_page=10&page=1&debug=false'), expected: allow('GET /list?per_page=1*|2*&page=*') },
  { name: 'query deny: repeated key, one bad', req: http('q.test', 'GET', '/list?per_page=10&page=1&debug=false&debug=true'), expected: deny('GET /list?debug=true') },
  { name: 'query deny: encoded value', req: http('q.test', 'GET', '/list?per_page=10&page=1&debug=%74rue'), expected: deny('GET /list?debug=true') },
  { name: 'query: encoded allowed value', req: http('q.test', 'GET', '/list?per_page=1%30&page=1'), expected: allow('GET /list?per_page=1*|2*&page=*') },
  { name: 'query: invalid escape', req: http('q.test', 'GET', '/list?per_page=%zz&page=1'), expected: deny(null), reason: ['invalid percent-escape'] },
  { name: 'two-key deny: no query', req: http('q.test', 'GET', '/export'), expected: allow('GET /export') },
  { name: 'two-key deny: one key present', req: http('q.test', 'GET', '/export?format=csv'), expected: allow('GET /export') },
  { name: 'two-key deny: both keys match', req: http('q.test', 'GET', '/export?format=csv&scope=all'), expected: deny('GET /export?format=csv&scope=all') },
  { name: 'two-key deny: one key mismatches', req: http('q.test', 'GET', '/export?format=json&scope=all'), expected: allow('GET /export') },
  { name: 'two-key deny: a matching value in each', req: http('q.test', 'GET', '/export?format=json&format=csv&scope=mine&scope=all'), expected: deny('GET /export?format=csv&scope=all') },
  // Incomplete requests.
  { name: 'method without target', req: { host: GH, port: 443, binary: CURL, method: 'GET' }, expected: { action: 'deny', rule: null } },
  { name: 'target without method', req: { host: GH, port: 443, binary: CURL, target: '/repos/o/r' }, expected: { action: 'deny', rule: null } },
];

// Endpoint interplay: enforcement, L4-only endpoints, allow_encoded_slash.
// prettier-ignore
const ENDPOINT_CASES: readonly DecisionCase[] = [
  { name: 'audit: allowed request', req: http('audit.test', 'GET', '/ok/x'), expected: allow('GET /ok/**', { policy: 'audited' }) },
  { name: 'audit: deny rule is forwarded and logged', req: http('audit.test', 'GET', '/ok/secret/x'), expected: audit('GET /ok/secret/**'), reason: ['enforcement: audit, forwarded'] },
  { name: 'audit: deny rule without an allow names the deny rule', req: http('audit.test', 'DELETE', '/x'), expected: audit('DELETE /**'), reason: ['blocked by deny rule "DELETE /**"'] },
  { name: 'audit: default deny is forwarded and logged', req: http('audit.test', 'GET', '/nope'), expected: audit('GET /nope') },
  { name: 'audit: an unparsable path is still denied', req: http('audit.test', 'GET', '/ok/a%2Fb'), expected: deny(null) },
  { name: 'audit beside enforce: audit policy allows', req: http('mixed-audit.test', 'GET', '/a/x'), expected: allow('GET /a/**', { policy: 'p_audit' }) },
  { name: 'audit beside enforce: enforce policy allows', req: http('mixed-audit.test', 'GET', '/b/x'), expected: allow('GET /b/**', { policy: 'p_enforce' }) },
  { name: 'audit beside enforce: the enforcing endpoint decides a miss', req: http('mixed-audit.test', 'GET', '/c'), expected: deny('GET /c', { policy: 'p_enforce' }) },
  { name: 'L4-only endpoint beside rest: anything goes', req: http('both.test', 'DELETE', '/anything'), expected: { action: 'allow', layer: 'l4', rule: 'L4 both.test:443', policy: 'both_l4', inspect: false } },
  { name: 'L4-only endpoint beside rest: even an unparsable path', req: http('both.test', 'GET', '/%zz'), expected: { action: 'allow', layer: 'l4' } },
  { name: 'rest policy for curl: allowed path', req: http('split.test', 'GET', '/only/x'), expected: allow('GET /only/**', { policy: 'split_rest' }) },
  { name: 'rest policy for curl: other path', req: http('split.test', 'POST', '/x'), expected: deny('POST /x', { policy: 'split_rest' }) },
  { name: 'L4 policy for wget: other path', req: http('split.test', 'POST', '/x', WGET), expected: { action: 'allow', layer: 'l4', policy: 'split_l4' } },
  { name: 'allow_encoded_slash keeps %2F in one segment', req: http('npm.test', 'GET', '/@scope%2Fpkg'), expected: allow('GET /*', { canonicalPath: '/@scope%2Fpkg' }) },
  { name: 'allow_encoded_slash upper-cases %2f', req: http('npm.test', 'GET', '/@scope%2fpkg'), expected: allow('GET /*', { canonicalPath: '/@scope%2Fpkg' }) },
  { name: 'allow_encoded_slash: a real slash is still a separator', req: http('npm.test', 'GET', '/@scope/pkg'), expected: deny('GET /@scope/pkg') },
  { name: 'allow_encoded_slash: %2F matches a rule written with %2F', req: http('npm.test', 'GET', '/lit/a%2Fb'), expected: allow('GET /lit/a%2Fb') },
  { name: 'allow_encoded_slash: %252F is not %2F', req: http('npm.test', 'GET', '/lit/a%252Fb'), expected: deny('GET /lit/a%252Fb') },
  { name: 'allow_encoded_slash must hold on every matching endpoint', req: http('enc-mixed.test', 'GET', '/a%2Fb'), expected: deny(null), reason: ['allow_encoded_slash'] },
  { name: 'mixed allow_encoded_slash: plain path', req: http('enc-mixed.test', 'GET', '/a/b'), expected: allow('GET /**', { policy: 'enc_yes' }) },
];

describe('decide() at L7', () => {
  test.for([...RULE_CASES, ...ENDPOINT_CASES])('$name', ({ req, expected, reason }) => {
    const decision = decide(compiled, req);
    expect(decision).toMatchObject(expected);
    for (const part of reason ?? []) expect(decision.reason).toContain(part);
  });
});
