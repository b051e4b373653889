import { describe, expect, test } from 'vitest';
import { compilePolicy, decide } from '../index.js';
import {
  CURL,
  L4_POLICY,
  WGET,
  connect,
  type DecisionCase,
} from '../test-helpers/decide-fixtures.js';

const compiled = compilePolicy(L4_POLICY);

const allow = (policy: string, rule: string, extra: object = {}) => ({
  action: 'allow' as const,
  layer: 'l4' as const,
  policy,
  rule,
  ...extra,
});
const deny = { action: 'deny' as const, layer: 'l4' as const, policy: null, rule: null };

// Every deny sits next to the allow it is the negative of.
// prettier-ignore
const CASES: readonly DecisionCase[] = [
  // Exact host, case, trailing dot, port.
  { name: 'exact host', req: connect('api.github.com'), expected: allow('github_api', 'L4 api.github.com:443', { policyName: 'github-api', matchedBinary: CURL, inspect: false }) },
  { name: 'host is case-insensitive', req: connect('API.GitHub.COM'), expected: allow('github_api', 'L4 api.github.com:443') },
  { name: 'trailing dot ignored', req: connect('api.github.com.'), expected: allow('github_api', 'L4 api.github.com:443') },
  { name: 'same host, unlisted port', req: connect('api.github.com', 80), expected: deny, reason: ['no network policy allows api.github.com:80', 'allowed on port 443 by policy github_api'] },
  { name: 'unknown host', req: connect('evil.test'), expected: deny, reason: ['no network policy allows evil.test:443'] },
  { name: 'listed host as a prefix of another', req: connect('api.github.com.evil.test'), expected: deny },
  { name: 'listed host as a suffix of another', req: connect('evilapi.github.com'), expected: deny },
  { name: 'parent of listed host', req: connect('github.com'), expected: deny },
  { name: 'two trailing dots are not a host', req: connect('api.github.com..'), expected: deny, reason: ['invalid host'] },
  // Binaries: exact, renamed, ancestors.
  { name: 'unlisted binary', req: connect('api.github.com', 443, WGET), expected: deny, reason: ['binary /usr/bin/wget is not listed for api.github.com:443 (policy github_api allows: /usr/bin/curl)'] },
  { name: 'renamed copy of a listed binary', req: connect('api.github.com', 443, '/tmp/curl'), expected: deny },
  { name: 'listed name with a suffix', req: connect('api.github.com', 443, '/usr/bin/curl2'), expected: deny },
  { name: 'binary paths are case-sensitive', req: connect('api.github.com', 443, '/usr/bin/CURL'), expected: deny },
  { name: 'relative binary path', req: connect('api.github.com', 443, 'curl'), expected: deny },
  { name: 'listed ancestor', req: connect('api.github.com', 443, WGET, ['/bin/bash', CURL]), expected: allow('github_api', 'L4 api.github.com:443', { matchedBinary: CURL }), reason: ['for /usr/bin/curl (ancestor of /usr/bin/wget)'] },
  { name: 'no listed ancestor', req: connect('api.github.com', 443, WGET, ['/bin/bash', '/sbin/init']), expected: deny, reason: ['binary /usr/bin/wget (ancestors: /bin/bash, /sbin/init) is not listed'] },
  { name: 'relative ancestor is ignored', req: connect('api.github.com', 443, WGET, ['usr/bin/curl']), expected: deny },
  { name: 'ancestor: claude spawns node', req: connect('api.anthropic.com', 443, '/usr/bin/node', ['/usr/local/bin/claude']), expected: allow('claude', 'L4 api.anthropic.com:443', { matchedBinary: '/usr/local/bin/claude' }) },
  { name: 'claude itself', req: connect('api.anthropic.com', 443, '/usr/local/bin/claude'), expected: allow('claude', 'L4 api.anthropic.com:443', { matchedBinary: '/usr/local/bin/claude' }) },
  { name: 'claude copied elsewhere', req: connect('api.anthropic.com', 443, '/tmp/claude', ['/usr/bin/bash']), expected: deny },
  // Multiple ports.
  { name: 'ports list: 80', req: connect('example.org', 80, WGET), expected: allow('web', 'L4 example.org:80') },
  { name: 'ports list: 443', req: connect('example.org', 443, WGET), expected: allow('web', 'L4 example.org:443') },
  { name: 'ports list: unlisted port', req: connect('example.org', 8443, WGET), expected: deny, reason: ['allowed on ports 80, 443 by policy web'] },
  // Host wildcards.
  { name: '*.x = one label', req: connect('a.one.test'), expected: allow('one_label', 'L4 *.one.test:443') },
  { name: '*.x is case-insensitive', req: connect('A.ONE.TEST'), expected: allow('one_label', 'L4 *.one.test:443') },
  { name: '*.x does not match the apex', req: connect('one.test'), expected: deny },
  { name: '*.x does not match two labels', req: connect('a.b.one.test'), expected: deny },
  { name: '*.x does not match a longer apex', req: connect('a.xone.test'), expected: deny },
  { name: '**.x = one label', req: connect('x.many.test'), expected: allow('many_labels', 'L4 **.many.test:443') },
  { name: '**.x = several labels', req: connect('a.b.c.many.test'), expected: allow('many_labels', 'L4 **.many.test:443') },
  { name: '**.x does not match the apex', req: connect('many.test'), expected: deny },
  { name: '**.x does not match a longer apex', req: connect('xmany.test'), expected: deny },
  { name: '* inside the first label', req: connect('us-central1-aiplatform.googleapis.com'), expected: allow('in_label', 'L4 *-aiplatform.googleapis.com:443') },
  { name: '* inside a label is non-empty', req: connect('-aiplatform.googleapis.com'), expected: deny },
  { name: '* inside a label stays in the label', req: connect('a.b-aiplatform.googleapis.com'), expected: deny },
  { name: '* inside a label needs its literal part', req: connect('aiplatform.googleapis.com'), expected: deny },
  { name: 'wildcard host then another domain', req: connect('us-aiplatform.googleapis.com.evil.test'), expected: deny },
  { name: 'middle label *', req: connect('bucket.s3.us-east-1.amazonaws.com'), expected: allow('middle_label', 'L4 *.s3.*.amazonaws.com:443') },
  { name: 'middle label * needs a label', req: connect('bucket.s3.amazonaws.com'), expected: deny },
  { name: 'middle label * is one label', req: connect('bucket.s3.a.b.amazonaws.com'), expected: deny },
  { name: 'first label * is one label (middle pattern)', req: connect('a.b.s3.us-east-1.amazonaws.com'), expected: deny },
  { name: 'a literal * in the request host', req: connect('*.one.test'), expected: deny, reason: ['invalid host'] },
  // IP literals.
  { name: 'IPv4 literal', req: connect('10.0.5.7', 8080), expected: allow('ipv4', 'L4 10.0.5.7:8080') },
  { name: 'IPv4 literal, other port', req: connect('10.0.5.7', 443), expected: deny },
  { name: 'IPv4 neighbour', req: connect('10.0.5.8', 8080), expected: deny },
  { name: 'IPv4 in another spelling is not the literal', req: connect('10.0.1287', 8080), expected: deny },
  { name: 'IPv6 in brackets', req: connect('[2001:db8::1]'), expected: allow('ipv6', 'L4 [2001:db8::1]:443') },
  { name: 'IPv6 without brackets', req: connect('2001:db8::1'), expected: allow('ipv6', 'L4 [2001:db8::1]:443') },
  { name: 'IPv6 uncompressed upper-case', req: connect('2001:DB8:0:0:0:0:0:1'), expected: allow('ipv6', 'L4 [2001:db8::1]:443') },
  { name: 'IPv6 with leading zeros', req: connect('[2001:0db8::0001]'), expected: allow('ipv6', 'L4 [2001:db8::1]:443') },
  { name: 'IPv6 neighbour', req: connect('2001:db8::2'), expected: deny },
  { name: 'IPv6 written long in the policy', req: connect('fd00::10'), expected: allow('ipv6', 'L4 [fd00::10]:443') },
  { name: 'IPv6 with a zone id', req: connect('fd00::10%eth0'), expected: deny, reason: ['invalid host'] },
  // Binary globs.
  { name: 'binary *: one segment', req: connect('maven.test', 443, '/usr/lib/jvm/java-17/bin/java'), expected: allow('java', 'L4 maven.test:443') },
  { name: 'binary *: not two segments', req: connect('maven.test', 443, '/usr/lib/jvm/a/b/bin/java'), expected: deny, reason: ['policy java allows: /usr/lib/jvm/*/bin/java'] },
  { name: 'binary *: other leaf', req: connect('maven.test', 443, '/usr/lib/jvm/java-17/bin/javac'), expected: deny },
  { name: 'binary **: zero segments', req: connect('npm.test', 443, '/opt/bin/node'), expected: allow('node_any_depth', 'L4 npm.test:443') },
  { name: 'binary **: many segments', req: connect('npm.test', 443, '/opt/x/y/z/bin/node'), expected: allow('node_any_depth', 'L4 npm.test:443') },
  { name: 'binary **: other leaf', req: connect('npm.test', 443, '/opt/x/bin/nodejs'), expected: deny },
  { name: 'binary **: outside the root', req: connect('npm.test', 443, '/usr/bin/node'), expected: deny },
  { name: 'binary ?: one char', req: connect('pypi.test', 443, '/usr/bin/python3.9'), expected: allow('python', 'L4 pypi.test:443') },
  { name: 'binary ?: not two chars', req: connect('pypi.test', 443, '/usr/bin/python3.10'), expected: deny },
  { name: 'binary [0-9][0-9]', req: connect('pypi.test', 443, '/usr/local/bin/python3.11'), expected: allow('python', 'L4 pypi.test:443') },
  { name: 'binary [0-9] refuses a letter', req: connect('pypi.test', 443, '/usr/local/bin/python3.1a'), expected: deny },
  { name: 'binary [!x] admits other chars', req: connect('class.test', 443, '/usr/bin/toola'), expected: allow('not_x', 'L4 class.test:443') },
  { name: 'binary [!x] refuses x', req: connect('class.test', 443, '/usr/bin/toolx'), expected: deny },
  { name: '/** admits any binary', req: connect('any.test', 443, '/tmp/anything/at/all'), expected: allow('any_binary', 'L4 any.test:443', { matchedBinary: '/tmp/anything/at/all' }) },
  { name: '/** needs an absolute binary', req: connect('any.test', 443, ''), expected: deny },
  { name: 'empty binaries list admits nobody', req: connect('nobody.test'), expected: deny, reason: ['policy no_binaries allows: no binaries (empty list)'] },
  // Several policies for one host.
  { name: 'shared host: curl policy', req: connect('shared.test', 443, CURL), expected: allow('shared_curl', 'L4 shared.test:443') },
  { name: 'shared host: wget policy', req: connect('shared.test', 443, WGET), expected: allow('shared_wget', 'L4 shared.test:443') },
  { name: 'shared host: neither', req: connect('shared.test', 443, '/usr/bin/nc'), expected: deny, reason: ['policy shared_curl allows: /usr/bin/curl; policy shared_wget allows: /usr/bin/wget'] },
  { name: 'wildcard policy first in order decides', req: connect('api.order.test'), expected: allow('order_wild', 'L4 *.order.test:443') },
  { name: 'wildcard policy alone', req: connect('other.order.test'), expected: allow('order_wild', 'L4 *.order.test:443') },
  // Inspection flag.
  { name: 'rest endpoint is inspected', req: connect('rest.test'), expected: allow('inspected', 'L4 rest.test:443', { inspect: true }) },
  { name: 'rest endpoint, other binary', req: connect('rest.test', 443, WGET), expected: deny },
  { name: 'an L4-only endpoint beside a rest one is not inspected', req: connect('mixed.test'), expected: allow('mixed_rest', 'L4 mixed.test:443', { inspect: false }) },
  // Malformed requests.
  { name: 'empty host', req: connect(''), expected: deny, reason: ['invalid host'] },
  { name: 'empty label', req: connect('a..one.test'), expected: deny },
  { name: 'space in host', req: connect('api.github.com '), expected: deny },
  { name: 'host with a port', req: connect('api.github.com:443'), expected: deny },
  { name: 'port 0', req: connect('api.github.com', 0), expected: deny, reason: ['invalid port 0'] },
  { name: 'port 65536', req: connect('api.github.com', 65536), expected: deny },
  { name: 'fractional port', req: connect('api.github.com', 443.5), expected: deny },
];

describe('decide() at L4', () => {
  test.for(CASES)('$name', ({ req, expected, reason }) => {
    const decision = decide(compiled, req);
    expect(decision).toMatchObject(expected);
    for (const part of reason ?? []) expect(decision.reason).toContain(part);
  });

  test('an allow lists the matching endpoints for the proxy', () => {
    const decision = decide(compiled, connect('shared.test', 443, CURL));
    expect(decision.endpoints?.map((e) => e.host)).toEqual(['shared.test']);
  });
});
