import { validateEndpoint } from './endpoint.js';
import {
  describeValue,
  entriesOf,
  getOwn,
  hasControlCharacter,
  isRecord,
  listOf,
} from './guards.js';
import { createIssue, type Issue, type PathSegment } from './issue.js';
import { findPathProblem } from './path-shape.js';

/** Prefix of ids the gateway generates when it composes provider rules into a policy. */
export const RESERVED_ID_PREFIX = '_provider_';
const MAX_NAME_LENGTH = 256;

/** Checks network_policies: ids, names, endpoints and binaries. */
export function validateNetworkPolicies(section: unknown): Issue[] {
  const issues: Issue[] = [];
  for (const [id, rule] of entriesOf(section)) {
    const path = ['network_policies', id];
    issues.push(...checkId(id, path));
    if (!isRecord(rule)) continue;
    issues.push(...checkName(getOwn(rule, 'name'), [...path, 'name']));
    const endpoints = getOwn(rule, 'endpoints');
    if (Array.isArray(endpoints) && endpoints.length === 0) {
      issues.push(
        createIssue(
          [...path, 'endpoints'],
          'WARN_POLICY_NO_ENDPOINTS',
          `network policy "${id}" has no endpoints, so it allows nothing`,
          {
            at: 'key',
          },
        ),
      );
    }
    for (const [index, endpoint] of listOf(endpoints).entries()) {
      issues.push(...validateEndpoint(endpoint, [...path, 'endpoints', index]));
    }
    issues.push(...checkBinaries(id, getOwn(rule, 'binaries'), path));
  }
  return issues;
}

function checkId(id: string, path: PathSegment[]): Issue[] {
  if (id.startsWith(RESERVED_ID_PREFIX)) {
    return [
      createIssue(
        path,
        'ERR_POLICY_RESERVED_ID',
        `rule id "${id}" starts with "${RESERVED_ID_PREFIX}", which is reserved for rules the gateway composes from providers — rename the rule`,
        {
          at: 'key',
          expected: `an id not starting with "${RESERVED_ID_PREFIX}"`,
          actual: describeValue(id),
        },
      ),
    ];
  }
  if (id === '' || id.length > MAX_NAME_LENGTH || hasControlCharacter(id)) {
    return [
      createIssue(
        path,
        'ERR_POLICY_INVALID_ID',
        `rule id ${describeValue(id)} must be 1..${MAX_NAME_LENGTH} characters without control characters`,
        { at: 'key', expected: 'a short name such as "github_api"', actual: describeValue(id) },
      ),
    ];
  }
  return [];
}

function checkName(name: unknown, path: PathSegment[]): Issue[] {
  if (typeof name !== 'string') return [];
  // The name travels in the X-OpenShell-Policy response header: a CR/LF would split it.
  if (name === '' || name.length > MAX_NAME_LENGTH || hasControlCharacter(name)) {
    return [
      createIssue(
        path,
        'ERR_POLICY_INVALID_NAME',
        `name ${describeValue(name)} must be 1..${MAX_NAME_LENGTH} characters without control characters (it is sent in response headers) — or remove it to use the rule id`,
        { expected: 'a display name', actual: describeValue(name) },
      ),
    ];
  }
  return [];
}

function checkBinaries(id: string, binaries: unknown, path: PathSegment[]): Issue[] {
  if (binaries === undefined || (Array.isArray(binaries) && binaries.length === 0)) {
    return [
      createIssue(
        binaries === undefined ? path : [...path, 'binaries'],
        'WARN_POLICY_NO_BINARIES',
        `network policy "${id}" lists no binaries, so no process may use it — add e.g. "binaries: [{path: /usr/bin/curl}]" (or "/**" for any binary)`,
        { at: 'key' },
      ),
    ];
  }
  const issues: Issue[] = [];
  for (const [index, binary] of listOf(binaries).entries()) {
    const binaryPath = isRecord(binary) ? getOwn(binary, 'path') : undefined;
    if (typeof binaryPath !== 'string') continue;
    const problem = findPathProblem(binaryPath);
    if (problem === undefined) continue;
    const reason = {
      empty: 'is empty',
      control: 'contains a control character',
      too_long: 'is longer than 4096 characters',
      relative:
        'is not absolute — binaries are matched on /proc/<pid>/exe, which is always absolute; write e.g. "/usr/bin/curl", or "/**" for any binary',
      traversal:
        'contains a ".." segment — executable paths are canonical, so it could never match',
    }[problem];
    issues.push(
      createIssue(
        [...path, 'binaries', index, 'path'],
        'ERR_POLICY_BINARY_PATH',
        `binary path ${describeValue(binaryPath)} ${reason}`,
        {
          expected: 'an absolute path or a glob starting with "/"',
          actual: describeValue(binaryPath),
        },
      ),
    );
  }
  return issues;
}
