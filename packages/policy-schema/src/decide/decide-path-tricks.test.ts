import { describe, expect, test } from 'vitest';
import { compilePolicy, decide } from '../index.js';
import { L7_POLICY, http, type DecisionCase } from '../test-helpers/decide-fixtures.js';

const compiled = compilePolicy(L7_POLICY);
const GH = 'api.github.com';
const allowed = (rule: string, canonicalPath?: string) => ({
  action: 'allow' as const,
  rule,
  ...(canonicalPath === undefined ? {} : { canonicalPath }),
});
const denied = (rule: string | null) => ({ action: 'deny' as const, layer: 'l7' as const, rule });
const refused = { action: 'deny' as const, layer: 'l7' as const, rule: null };

// api.github.com allows GET /repos/** and POST /repos/*/*/issues; admin.test allows
// everything except `* /admin/**` and `POST /repos/*/*/admin`. Each trick sits beside
// the request it disguises or the harmless request it resembles.
// prettier-ignore
const CASES: readonly DecisionCase[] = [
  // Dot segments.
  { name: '.. climbs out of the allowed tree', req: http(GH, 'GET', '/repos/../admin'), expected: denied('GET /admin') },
  { name: '.. twice', req: http(GH, 'GET', '/repos/o/../../admin'), expected: denied('GET /admin') },
  { name: '.. inside the allowed tree', req: http(GH, 'GET', '/repos/o/r/../r2'), expected: allowed('GET /repos/**', '/repos/o/r2') },
  { name: '. segments vanish', req: http(GH, 'GET', '/repos/./o/./r'), expected: allowed('GET /repos/**', '/repos/o/r') },
  { name: 'encoded %2e%2e is ..', req: http(GH, 'GET', '/repos/%2e%2e/admin'), expected: denied('GET /admin') },
  { name: 'encoded %2E%2E is ..', req: http(GH, 'GET', '/repos/%2E%2E/admin'), expected: denied('GET /admin') },
  { name: 'half-encoded .%2e is ..', req: http(GH, 'GET', '/repos/.%2e/admin'), expected: denied('GET /admin') },
  { name: '..%2e is a name, not ..', req: http(GH, 'GET', '/repos/..%2e/x'), expected: allowed('GET /repos/**', '/repos/.../x') },
  { name: '.. above the root is refused', req: http(GH, 'GET', '/..'), expected: refused, reason: ['climbs above the root'] },
  { name: 'encoded .. above the root is refused', req: http(GH, 'GET', '/%2e%2e/repos/o'), expected: refused },
  { name: 'overlong UTF-8 dot is refused', req: http(GH, 'GET', '/repos/%C0%AE%C0%AE/admin'), expected: refused, reason: ['invalid UTF-8'] },
  // Empty segments.
  { name: '// at the start collapses', req: http(GH, 'GET', '//repos/o/r'), expected: allowed('GET /repos/**', '/repos/o/r') },
  { name: '// inside collapses', req: http(GH, 'GET', '/repos//o//r'), expected: allowed('GET /repos/**', '/repos/o/r') },
  { name: '//admin is /admin', req: http('admin.test', 'GET', '//admin'), expected: denied('* /admin/**') },
  // Encoded slash (this endpoint does not allow it).
  { name: '%2F is refused', req: http(GH, 'GET', '/repos/o%2Fr'), expected: refused, reason: ['encoded slash (%2F)', 'allow_encoded_slash'] },
  { name: '%2f is refused', req: http(GH, 'GET', '/repos/o%2fr'), expected: refused },
  { name: 'the same path with a real slash', req: http(GH, 'GET', '/repos/o/r'), expected: allowed('GET /repos/**') },
  // Other escapes and raw bytes.
  { name: 'invalid escape', req: http(GH, 'GET', '/repos/%zz'), expected: refused, reason: ['invalid percent-escape "%zz"'] },
  { name: 'truncated escape', req: http(GH, 'GET', '/repos/%4'), expected: refused },
  { name: 'encoded NUL', req: http(GH, 'GET', '/repos/o%00.json'), expected: refused, reason: ['NUL'] },
  { name: 'encoded newline', req: http(GH, 'GET', '/repos/o%0a'), expected: refused },
  { name: 'valid UTF-8', req: http(GH, 'GET', '/repos/caf%C3%A9'), expected: allowed('GET /repos/**', '/repos/café') },
  { name: 'encoded space', req: http(GH, 'GET', '/repos/a%20b'), expected: allowed('GET /repos/**', '/repos/a b') },
  { name: 'raw space', req: http(GH, 'GET', '/repos/a b'), expected: refused },
  { name: 'raw tab', req: http(GH, 'GET', '/repos/a\tb'), expected: refused },
  { name: 'raw non-ASCII', req: http(GH, 'GET', '/repos/café'), expected: refused },
  { name: 'fragment', req: http(GH, 'GET', '/repos/o#x'), expected: refused, reason: ['fragment'] },
  { name: 'encoded letters decode', req: http('admin.test', 'GET', '/adm%69n'), expected: denied('* /admin/**') },
  { name: 'no leading slash', req: http(GH, 'GET', 'repos/o/r'), expected: refused },
  { name: 'absolute-form target', req: http(GH, 'GET', 'http://api.github.com/repos/o/r'), expected: refused },
  { name: 'asterisk-form target', req: http(GH, 'OPTIONS', '*'), expected: refused },
  { name: 'over-long target', req: http(GH, 'GET', `/repos/${'a'.repeat(70000)}`), expected: refused },
  // Backslash is an ordinary character.
  { name: 'backslash stays inside its segment', req: http(GH, 'GET', '/repos/a\\b'), expected: allowed('GET /repos/**', '/repos/a\\b') },
  { name: 'backslash is not a separator for *', req: http(GH, 'POST', '/repos/o\\r/x/issues'), expected: allowed('POST /repos/*/*/issues', '/repos/o\\r/x/issues') },
  { name: 'backslash dots are not ..', req: http(GH, 'GET', '/repos\\..\\admin'), expected: denied('GET /repos\\..\\admin') },
  // Tomcat-style ;params.
  { name: 'plain /admin', req: http('admin.test', 'GET', '/admin'), expected: denied('* /admin/**') },
  { name: '/admin/ (trailing slash)', req: http('admin.test', 'GET', '/admin/'), expected: denied('* /admin/**') },
  { name: '/admin;x=1', req: http('admin.test', 'GET', '/admin;x=1'), expected: denied('* /admin/**') },
  { name: '/admin;jsessionid=…/users', req: http('admin.test', 'GET', '/admin;jsessionid=abc/users'), expected: denied('* /admin/**') },
  { name: '/public/..;/admin (nginx/Tomcat split)', req: http('admin.test', 'GET', '/public/..;/admin'), expected: denied('* /admin/**') },
  { name: 'encoded ; (%3b) as a parameter', req: http('admin.test', 'GET', '/admin%3bx=1'), expected: denied('* /admin/**') },
  { name: ';params on an allowed path', req: http('admin.test', 'GET', '/public;x=1'), expected: allowed('* /**', '/public') },
  { name: 'plain /public', req: http('admin.test', 'GET', '/public'), expected: allowed('* /**', '/public') },
  { name: ';params where both readings are allowed', req: http(GH, 'GET', '/repos/o/r;x=1'), expected: allowed('GET /repos/**', '/repos/o/r') },
  { name: ';params where the literal reading is not allowed', req: http(GH, 'POST', '/repos/o/r/issues;x=1'), expected: denied('POST /repos/o/r/issues;x=1') },
  { name: 'the same request without ;params', req: http(GH, 'POST', '/repos/o/r/issues'), expected: allowed('POST /repos/*/*/issues') },
  // Trailing slash against an exact deny rule.
  { name: 'exact deny rule', req: http('admin.test', 'POST', '/repos/o/r/admin'), expected: denied('POST /repos/*/*/admin') },
  { name: 'exact deny rule with a trailing slash', req: http('admin.test', 'POST', '/repos/o/r/admin/'), expected: denied('POST /repos/*/*/admin') },
  { name: 'exact deny rule with ;params', req: http('admin.test', 'POST', '/repos/o/r/admin;x'), expected: denied('POST /repos/*/*/admin') },
  { name: 'exact deny rule, other method', req: http('admin.test', 'GET', '/repos/o/r/admin'), expected: allowed('* /**') },
  // `*` vs `**` and HEAD/GET through the tricks.
  { name: 'decoded .. resolves before * is matched', req: http(GH, 'POST', '/repos/o/r/%2e%2e/x/issues'), expected: allowed('POST /repos/*/*/issues', '/repos/o/x/issues') },
  { name: 'HEAD with an encoded path', req: http(GH, 'HEAD', '/repos/%6f/r'), expected: allowed('GET /repos/**', '/repos/o/r') },
  { name: 'lower-case head through ..', req: http(GH, 'head', '/repos/x/../o'), expected: allowed('GET /repos/**', '/repos/o') },
];

describe('decide() against path tricks', () => {
  test.for(CASES)('$name', ({ req, expected, reason }) => {
    const decision = decide(compiled, req);
    expect(decision).toMatchObject(expected);
    for (const part of reason ?? []) expect(decision.reason).toContain(part);
  });
});
