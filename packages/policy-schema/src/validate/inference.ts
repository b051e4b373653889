import { describeValue, entriesOf, getOwn, isRecord, listOf } from './guards.js';
import { createIssue, type Issue } from './issue.js';

/** Checks the inference section: default_route names a route, each sensitivity rule has one valid detector. */
export function validateInferencePolicy(section: unknown): Issue[] {
  if (!isRecord(section)) return [];
  const issues: Issue[] = [];
  const routes = getOwn(section, 'routes');
  const defaultRoute = getOwn(section, 'default_route');
  if (
    typeof defaultRoute === 'string' &&
    isRecord(routes) &&
    !Object.hasOwn(routes, defaultRoute)
  ) {
    const names = Object.keys(routes);
    issues.push(
      createIssue(
        ['inference', 'default_route'],
        'ERR_POLICY_UNKNOWN_ROUTE',
        `default_route ${describeValue(defaultRoute)} is not one of routes${names.length === 0 ? ' (routes is empty)' : ` (${names.join(', ')})`} — add it to routes or pick one of them`,
        {
          expected: names.length === 0 ? 'a key of routes' : `one of ${names.join(', ')}`,
          actual: describeValue(defaultRoute),
        },
      ),
    );
  }
  const hasLocalRoute = entriesOf(routes).some(
    ([, route]) => isRecord(route) && getOwn(route, 'kind') === 'local',
  );
  const seenNames = new Set<string>();
  for (const [index, rule] of listOf(getOwn(section, 'sensitivity')).entries()) {
    if (!isRecord(rule)) continue;
    const path = ['inference', 'sensitivity', index];
    const name = getOwn(rule, 'name');
    if (typeof name === 'string') {
      if (seenNames.has(name)) {
        issues.push(
          createIssue(
            [...path, 'name'],
            'ERR_POLICY_DUPLICATE_NAME',
            `sensitivity rule name ${describeValue(name)} is used twice — names identify rules in logs; make them unique`,
            {
              actual: describeValue(name),
            },
          ),
        );
      }
      seenNames.add(name);
    }
    const hasBuiltin = getOwn(rule, 'builtin') !== undefined;
    const pattern = getOwn(rule, 'pattern');
    if (hasBuiltin === (pattern !== undefined)) {
      issues.push(
        createIssue(
          path,
          'ERR_POLICY_SENSITIVITY_DETECTOR',
          `sensitivity rule sets ${hasBuiltin ? 'both builtin and pattern' : 'neither builtin nor pattern'} — set exactly one: "builtin: secrets|private_keys" or "pattern: <regex>"`,
          { expected: 'exactly one of builtin, pattern', actual: hasBuiltin ? 'both' : 'neither' },
        ),
      );
    }
    if (typeof pattern === 'string') {
      const problem = findPatternProblem(pattern);
      if (problem !== undefined) {
        issues.push(
          createIssue([...path, 'pattern'], 'ERR_POLICY_INVALID_PATTERN', problem, {
            expected: 'a non-empty JavaScript regular expression',
            actual: describeValue(pattern),
          }),
        );
      }
    }
    if (getOwn(rule, 'action') === 'keep_local' && isRecord(routes) && !hasLocalRoute) {
      issues.push(
        createIssue(
          [...path, 'action'],
          'WARN_POLICY_NO_LOCAL_ROUTE',
          'action keep_local but no route has kind: local — matching requests will be refused; add a local route',
        ),
      );
    }
  }
  return issues;
}

function findPatternProblem(pattern: string): string | undefined {
  if (pattern === '')
    return 'pattern is empty, so it would match every request — write the expression to detect';
  try {
    // Compiled only to prove it parses; the inference router compiles it with the same flag.
    new RegExp(pattern, 'u');
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `pattern is not a valid regular expression (${reason}) — fix the expression; it is compiled with the "u" flag`;
  }
}
