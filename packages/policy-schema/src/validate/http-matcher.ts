import { describeValue, entriesOf, getOwn, hasControlCharacter, isRecord } from './guards.js';
import { createIssue, type Issue, type PathSegment } from './issue.js';
import { MAX_PATH_LENGTH } from './path-shape.js';

// RFC 9110 §5.6.2 token characters, minus "*": "*" alone means any method, and a method
// such as "GE*" would read like a glob that no matcher implements.
const METHOD_TOKEN = /^[!#$%&'+\-.^_`|~0-9A-Za-z]+$/;

/** Checks one allow or deny matcher: method token or `*`, path starting with `/` or `**`, query keys. */
export function validateHttpMatcher(matcher: unknown, path: readonly PathSegment[]): Issue[] {
  if (!isRecord(matcher)) return [];
  const issues: Issue[] = [];
  const method = getOwn(matcher, 'method');
  if (typeof method === 'string' && method !== '*' && !METHOD_TOKEN.test(method)) {
    issues.push(
      createIssue(
        [...path, 'method'],
        'ERR_POLICY_METHOD',
        `method ${describeValue(method)} is not an HTTP method — use a token such as GET or POST, or "*" for any`,
        { expected: 'an HTTP method token or "*"', actual: describeValue(method) },
      ),
    );
  }
  const rulePath = getOwn(matcher, 'path');
  if (typeof rulePath === 'string') {
    const problem = findRulePathProblem(rulePath);
    if (problem !== undefined) {
      issues.push(
        createIssue(
          [...path, 'path'],
          'ERR_POLICY_RULE_PATH',
          `path ${describeValue(rulePath)} ${problem}`,
          {
            expected: 'a glob starting with "/" (or "**" for every path)',
            actual: describeValue(rulePath),
          },
        ),
      );
    }
  }
  for (const [key] of entriesOf(getOwn(matcher, 'query'))) {
    if (key === '' || hasControlCharacter(key)) {
      issues.push(
        createIssue(
          [...path, 'query', key],
          'ERR_POLICY_QUERY',
          'query parameter names must be non-empty and free of control characters',
          { at: 'key', expected: 'a parameter name', actual: describeValue(key) },
        ),
      );
    }
  }
  return issues;
}

function findRulePathProblem(path: string): string | undefined {
  if (path === '**') return undefined;
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  if (!path.startsWith('/')) {
    return `does not start with "/" — rule paths are globs over the request path, e.g. "/${path.replace(/^\/*/, '')}" (or "**" for every path)`;
  }
  if (/\s/.test(path) || hasControlCharacter(path)) {
    return 'contains whitespace or a control character — request paths never do; percent-encode it (%20)';
  }
  if (path.split('/').includes('..')) {
    return 'contains a ".." segment — requests are matched on the canonical path, where ".." is already resolved, so this rule could never match';
  }
  return undefined;
}
