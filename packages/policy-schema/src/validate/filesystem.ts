import { describeValue, getOwn, isRecord, listOf } from './guards.js';
import { createIssue, type Issue } from './issue.js';
import {
  MAX_PATH_LENGTH,
  findPathProblem,
  normaliseAbsolutePath,
  resolveDotSegments,
} from './path-shape.js';

/** Most paths read_only and read_write may list together (OpenShell's limit; Landlock rules cost per path). */
export const MAX_FILESYSTEM_PATHS = 256;

const LISTS = ['read_only', 'read_write'] as const;

/** Checks filesystem_policy paths: absolute, no traversal, not too long, not too many, no writable `/`. */
export function validateFilesystemPolicy(section: unknown): Issue[] {
  if (!isRecord(section)) return [];
  const issues: Issue[] = [];
  let total = 0;
  for (const list of LISTS) {
    for (const [index, entry] of listOf(getOwn(section, list)).entries()) {
      total += 1;
      if (typeof entry !== 'string') continue;
      const issue = checkFilesystemPath(entry, list);
      if (issue !== undefined) {
        issues.push(
          createIssue(['filesystem_policy', list, index], issue.code, issue.message, {
            expected: issue.expected,
            actual: describeValue(entry),
          }),
        );
      }
    }
  }
  if (total > MAX_FILESYSTEM_PATHS) {
    issues.push(
      createIssue(
        ['filesystem_policy'],
        'ERR_POLICY_TOO_MANY_PATHS',
        `filesystem_policy lists ${total} paths — at most ${MAX_FILESYSTEM_PATHS} (read_only and read_write together); list parent directories instead`,
        { at: 'key', expected: `at most ${MAX_FILESYSTEM_PATHS} paths`, actual: `${total} paths` },
      ),
    );
  }
  return issues;
}

type FilesystemFinding = Pick<Issue, 'code' | 'message'> & { readonly expected: string };

function checkFilesystemPath(
  path: string,
  list: (typeof LISTS)[number],
): FilesystemFinding | undefined {
  const shown = describeValue(path);
  const expected = 'an absolute path without ".." segments';
  switch (findPathProblem(path)) {
    case 'empty':
      return {
        code: 'ERR_POLICY_PATH_INVALID',
        message: 'path is empty — write an absolute path such as "/sandbox"',
        expected,
      };
    case 'control':
      return {
        code: 'ERR_POLICY_PATH_INVALID',
        message: `${shown} contains a control character — remove it`,
        expected,
      };
    case 'too_long':
      return {
        code: 'ERR_POLICY_PATH_TOO_LONG',
        message: `path is ${path.length} characters long — at most ${MAX_PATH_LENGTH}`,
        expected: `at most ${MAX_PATH_LENGTH} characters`,
      };
    case 'relative':
      return {
        code: 'ERR_POLICY_PATH_NOT_ABSOLUTE',
        message: `${shown} is not absolute — filesystem paths start with "/", e.g. "${normaliseAbsolutePath(`/${path.replace(/^[~.]+/, '')}`)}"`,
        expected,
      };
    case 'traversal':
      return {
        code: 'ERR_POLICY_PATH_TRAVERSAL',
        message: `${shown} contains a ".." segment (path traversal) — write the resolved path, e.g. "${resolveDotSegments(path)}"`,
        expected,
      };
    case undefined:
      break;
  }
  if (list === 'read_write' && normaliseAbsolutePath(path) === '/') {
    return {
      code: 'ERR_POLICY_PATH_TOO_BROAD',
      message: `${shown} in read_write is too broad: it makes the whole host filesystem writable — list the directories the agent writes, e.g. "/sandbox"`,
      expected: 'a directory below "/"',
    };
  }
  return undefined;
}
