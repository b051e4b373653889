import { createRequire } from 'node:module';
import type * as AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { PolicyDiagnosticCode } from '../diagnostic-codes.js';
import { POLICY_JSON_SCHEMA } from '../schema/policy-json-schema.js';
import { describeTyped, describeValue } from '../validate/guards.js';
import { createIssue, type Issue, type PathSegment } from '../validate/issue.js';
import { suggestKey } from './suggest-key.js';

// ajv is loaded and the schema compiled on the first parse, not at import: every CLI command
// imports this package, few of them parse a policy, and loading plus compiling costs tens of
// milliseconds. The cache holds a pure function.
const requireCommonJs = createRequire(import.meta.url);
let compiled: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  if (compiled === undefined) {
    const { Ajv } = requireCommonJs('ajv') as typeof AjvModule;
    compiled = new Ajv({
      allErrors: true,
      verbose: true,
      strict: true,
      allowUnionTypes: true,
    }).compile(POLICY_JSON_SCHEMA);
  }
  return compiled;
}

/** Runs the JSON Schema over the data and turns each failure into a positioned-by-path issue. */
export function findSchemaIssues(data: unknown): Issue[] {
  const validate = getValidator();
  if (validate(data)) return [];
  return (validate.errors ?? []).flatMap((error) => toIssues(error, data));
}

const MISSING_KEY_HINTS: Readonly<Record<string, string>> = {
  host: 'add the host this endpoint allows, e.g. "host: api.example.com"',
  endpoints: 'add "endpoints:" with at least one {host, port}',
  path: 'add the path, e.g. "path: /usr/bin/curl" for a binary or "path: /api/**" for a rule',
  method: 'add the HTTP method, e.g. "method: GET" (or "*" for any)',
  allow: 'write each rule as "- allow: {method: GET, path: /api/**}"',
  default_route: 'add "default_route:" naming one of routes',
  routes: 'add "routes:" with at least the default route',
  kind: 'add "kind: local" or "kind: frontier"',
  name: 'add a unique "name:"',
  action: 'add "action: keep_local" or "action: refuse"',
  any: 'write "{any: [glob1, glob2]}"',
};

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'null',
};

function toIssues(error: ErrorObject, data: unknown): Issue[] {
  const path = pointerToPath(data, error.instancePath);
  switch (error.keyword) {
    // An `if` failure only says which branch ran; the branch's own errors carry the detail.
    case 'if':
      return [];
    case 'additionalProperties':
      return [unknownKeyIssue(error, path)];
    case 'required':
      return [missingKeyIssue(error, path)];
    case 'type':
      return [typeIssue(error, path)];
    case 'enum':
      return [enumIssue(error, path)];
    case 'const':
      return [
        createIssue(
          path,
          'ERR_POLICY_VERSION',
          'version must be 1 (the only policy language version)',
          {
            expected: '1',
            actual: describeTyped(error.data),
          },
        ),
      ];
    case 'minimum':
    case 'maximum':
      return [
        createIssue(
          path,
          'ERR_POLICY_PORT_RANGE',
          `port ${describeValue(error.data)} is out of range — use a port between 1 and 65535`,
          { expected: '1..65535', actual: describeValue(error.data) },
        ),
      ];
    case 'minItems':
      return [emptyListIssue(path)];
    default:
      return [
        createIssue(
          path,
          'ERR_POLICY_SCHEMA',
          error.message ?? `fails schema rule ${error.keyword}`,
          {
            actual: describeValue(error.data),
          },
        ),
      ];
  }
}

function unknownKeyIssue(error: ErrorObject, path: PathSegment[]): Issue {
  const key = String(error.params['additionalProperty']);
  const allowed = Object.keys(propertiesOf(error.parentSchema));
  const suggestion = suggestKey(key, allowed);
  const hint =
    suggestion === undefined
      ? `allowed keys: ${allowed.join(', ')}`
      : `did you mean "${suggestion}"?`;
  return createIssue([...path, key], 'ERR_POLICY_UNKNOWN_KEY', `unknown key "${key}" — ${hint}`, {
    at: 'key',
    expected: `one of: ${allowed.join(', ')}`,
    actual: JSON.stringify(key),
  });
}

function missingKeyIssue(error: ErrorObject, path: PathSegment[]): Issue {
  const key = String(error.params['missingProperty']);
  if (path.length === 0 && key === 'version') {
    return createIssue(
      ['version'],
      'ERR_POLICY_VERSION',
      'missing "version: 1" — add it as the first line',
      {
        expected: '1',
        actual: 'absent',
      },
    );
  }
  const hint = MISSING_KEY_HINTS[key];
  return createIssue(
    [...path, key],
    'ERR_POLICY_MISSING_KEY',
    `missing required key "${key}"${hint === undefined ? '' : ` — ${hint}`}`,
    { expected: `key "${key}"`, actual: 'absent' },
  );
}

function typeIssue(error: ErrorObject, path: PathSegment[]): Issue {
  const title: unknown = error.parentSchema?.['title'];
  const expected =
    typeof title === 'string'
      ? title
      : listOfStrings(error.params['type'])
          .map((name) => TYPE_NAMES[name] ?? name)
          .join(' or ');
  const actual = describeTyped(error.data);
  const types = listOfStrings(error.params['type']);
  // `network_policies:` with nothing after it is the usual way to end up here.
  const hint =
    error.data !== null
      ? ''
      : types.includes('object')
        ? ' — write "{}" for an empty mapping, or remove the key'
        : types.includes('array')
          ? ' — write "[]" for an empty list, or remove the key'
          : '';
  return createIssue(path, 'ERR_POLICY_TYPE', `expected ${expected}, got ${actual}${hint}`, {
    expected,
    actual,
  });
}

function enumIssue(error: ErrorObject, path: PathSegment[]): Issue {
  const allowed = listOfStrings(error.schema).map((value) => JSON.stringify(value));
  const key = path.at(-1);
  const what = typeof key === 'string' ? key : 'value';
  return createIssue(
    path,
    'ERR_POLICY_INVALID_VALUE',
    `${what} ${describeValue(error.data)} is not allowed — use one of ${allowed.join(', ')}`,
    { expected: `one of ${allowed.join(', ')}`, actual: describeValue(error.data) },
  );
}

const EMPTY_LIST_RULES: Readonly<Record<string, readonly [PolicyDiagnosticCode, string]>> = {
  rules: [
    'ERR_POLICY_EMPTY_RULES',
    '"rules: []" would deny every request — list allow rules, use "access: read-only|read-write|full", or remove protocol and rules for L4-only',
  ],
  deny_rules: [
    'ERR_POLICY_EMPTY_RULES',
    '"deny_rules: []" denies nothing — list deny matchers or remove the key',
  ],
  ports: [
    'ERR_POLICY_PORT_MISSING',
    '"ports: []" allows no port — list at least one port, e.g. [443]',
  ],
  any: ['ERR_POLICY_QUERY', '"{any: []}" can never match — list at least one glob'],
};

function emptyListIssue(path: PathSegment[]): Issue {
  const key = path.at(-1);
  const rule = typeof key === 'string' ? EMPTY_LIST_RULES[key] : undefined;
  const [code, message] = rule ?? ['ERR_POLICY_EMPTY_LIST', 'must not be empty'];
  return createIssue(path, code, message, { expected: 'at least one entry', actual: '[]' });
}

/** Turns a JSON pointer into path segments, using the data to tell list indices from keys. */
export function pointerToPath(data: unknown, pointer: string): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let current: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(current)) {
      const index = Number(token);
      path.push(index);
      current = current[index];
    } else {
      path.push(token);
      current =
        typeof current === 'object' && current !== null && Object.hasOwn(current, token)
          ? (current as Record<string, unknown>)[token]
          : undefined;
    }
  }
  return path;
}

function propertiesOf(schema: unknown): Record<string, unknown> {
  if (typeof schema !== 'object' || schema === null) return {};
  const properties = (schema as { properties?: unknown }).properties;
  return typeof properties === 'object' && properties !== null
    ? (properties as Record<string, unknown>)
    : {};
}

function listOfStrings(value: unknown): string[] {
  const values: unknown[] = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
}
