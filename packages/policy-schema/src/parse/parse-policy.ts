import { LineCounter, isMap, isScalar, parseDocument, type Document, type YAMLError } from 'yaml';
import type { PolicyDiagnosticCode } from '../diagnostic-codes.js';
import { normalisePolicy, type PolicyData } from '../normalise-policy.js';
import type { Diagnostic, ParseResult, PolicySection } from '../types.js';
import { validateFilesystemPolicy } from '../validate/filesystem.js';
import { getOwn, isRecord } from '../validate/guards.js';
import { validateInferencePolicy } from '../validate/inference.js';
import { severityOf, type Issue, type PathSegment } from '../validate/issue.js';
import { validateNetworkPolicies } from '../validate/network.js';
import { validateProcessPolicy } from '../validate/process.js';
import { findUnsupportedFeatures } from '../validate/unsupported.js';
import { formatPath } from './format-path.js';
import { findPathAt, locatePath, toPosition } from './locate.js';
import { findSchemaIssues } from './schema-issues.js';
import { convertYamlToData } from './yaml-to-data.js';

export interface ParsePolicyOptions {
  /** Shown in diagnostics; default `<input>`. */
  readonly file?: string;
}

/** Largest policy text accepted (1 MiB): real policies are a few KiB; this bounds parse cost. */
export const MAX_POLICY_TEXT_LENGTH = 1024 * 1024;

const SECTION_ORDER: readonly PolicySection[] = [
  'filesystem_policy',
  'landlock',
  'process',
  'network_policies',
  'inference',
];

/**
 * Parses and validates a policy file. Never throws: every problem, including a bug in this
 * function, comes back as a diagnostic with file, line, column and dotted path, and
 * `policy` is present only when there is no error.
 *
 * @example
 * const { policy, diagnostics } = parsePolicy(text, { file: 'policy.yaml' });
 * if (policy === undefined) console.error(diagnostics.map(formatDiagnostic).join('\n'));
 */
export function parsePolicy(text: string, options: ParsePolicyOptions = {}): ParseResult {
  const file = typeof options?.file === 'string' && options.file !== '' ? options.file : '<input>';
  try {
    return parseOrReport(text, file);
  } catch (error) {
    // Fail closed: a crash in the parser (or a stack overflow on hostile nesting inside the
    // YAML library) refuses the policy instead of propagating.
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      diagnostics: [
        positioned(
          file,
          { line: 1, column: 1 },
          [],
          'ERR_POLICY_INTERNAL',
          `policy could not be checked (${reason}) — please report this with the file`,
        ),
      ],
      sections: [],
    };
  }
}

function parseOrReport(text: unknown, file: string): ParseResult {
  const start = { line: 1, column: 1 };
  if (typeof text !== 'string') {
    return fail([
      positioned(
        file,
        start,
        [],
        'ERR_POLICY_TYPE',
        `policy text must be a string, got ${typeof text}`,
      ),
    ]);
  }
  if (text.length > MAX_POLICY_TEXT_LENGTH) {
    return fail([
      positioned(
        file,
        start,
        [],
        'ERR_POLICY_TOO_LARGE',
        `policy is ${text.length} characters long — at most ${MAX_POLICY_TEXT_LENGTH} are accepted`,
      ),
    ]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    // YAML 1.2 core types only, whatever `%YAML 1.1` says: yaml-1.1 would read `on`/`yes`
    // as booleans and `2001-12-14` as a date behind the author's back.
    version: '1.2',
    schema: 'core',
    resolveKnownTags: false,
  });
  const sections = findSections(doc);
  const yamlErrors = doc.errors.map((error) => fromYamlError(file, text, doc, lineCounter, error));
  if (yamlErrors.length > 0) return { diagnostics: yamlErrors, sections };

  const diagnostics: Diagnostic[] = doc.warnings
    .filter((warning) => warning.code !== 'TAG_RESOLVE_FAILED') // reported as ERR_POLICY_YAML_TAG below
    .map((warning) => fromYamlError(file, text, doc, lineCounter, warning, 'WARN_POLICY_YAML'));
  const { data, problems } = convertYamlToData(doc);
  for (const problem of problems) {
    diagnostics.push(
      positioned(
        file,
        toPosition(lineCounter, problem.offset),
        problem.path,
        problem.code,
        problem.message,
        {
          ...(problem.actual === undefined ? {} : { actual: problem.actual }),
        },
      ),
    );
  }
  // A tag or key the policy cannot hold makes the data unreliable; judging its structure
  // would only add noise, exactly as after a syntax error.
  if (problems.length > 0) return finish(diagnostics, sections);
  if (data === null || data === undefined) {
    const message = 'policy is empty — a policy needs at least "version: 1"';
    diagnostics.push(positioned(file, start, [], 'ERR_POLICY_EMPTY', message));
    return finish(diagnostics, sections);
  }
  if (!isRecord(data)) {
    diagnostics.push(
      positioned(
        file,
        locatePath(doc, lineCounter, [], 'value'),
        [],
        'ERR_POLICY_TYPE',
        'a policy is a mapping of sections (version, filesystem_policy, network_policies, ...)',
        {
          expected: 'a mapping',
          actual: Array.isArray(data) ? 'a list' : typeof data,
        },
      ),
    );
    return finish(diagnostics, sections);
  }
  const issues = collectIssues(data);
  for (const issue of issues) {
    diagnostics.push(
      positioned(
        file,
        locatePath(doc, lineCounter, issue.path, issue.at),
        issue.path,
        issue.code,
        issue.message,
        issue,
      ),
    );
  }
  const result = finish(diagnostics, sections);
  if (result.diagnostics.some((d) => d.severity === 'error')) return result;
  // The schema and the validators accepted `data`, which is exactly what PolicyData describes.
  return { ...result, policy: normalisePolicy(data as unknown as PolicyData) };
}

function collectIssues(data: Record<string, unknown>): Issue[] {
  const semantic = [
    ...findUnsupportedFeatures(data),
    ...validateFilesystemPolicy(getOwn(data, 'filesystem_policy')),
    ...validateProcessPolicy(getOwn(data, 'process')),
    ...validateNetworkPolicies(getOwn(data, 'network_policies')),
    ...validateInferencePolicy(getOwn(data, 'inference')),
  ];
  const claimed = semantic.flatMap((issue) => (issue.claims === undefined ? [] : [issue.claims]));
  const structural = findSchemaIssues(data).filter(
    (issue) => !claimed.some((prefix) => isPrefix(prefix, issue.path)),
  );
  return [...structural, ...semantic];
}

function fromYamlError(
  file: string,
  text: string,
  doc: Document,
  lineCounter: LineCounter,
  error: YAMLError,
  fallbackCode: PolicyDiagnosticCode = 'ERR_POLICY_YAML_SYNTAX',
): Diagnostic {
  const offset = error.pos[0];
  const path = findPathAt(doc, offset);
  const position = toPosition(lineCounter, offset);
  if (error.code === 'DUPLICATE_KEY') {
    // The parser reports only the key's first character; the located path ends with the key.
    const last = path.at(-1);
    const key = last === undefined ? text.slice(error.pos[0], error.pos[1]) : String(last);
    return positioned(
      file,
      position,
      path,
      'ERR_POLICY_DUPLICATE_KEY',
      `duplicate key ${JSON.stringify(key)} — each key may appear once in a mapping; merge the two entries`,
      {
        actual: JSON.stringify(key),
      },
    );
  }
  if (error.code === 'MULTIPLE_DOCS') {
    const hint = /^\s*Version:/.test(text)
      ? 'this looks like `openshell policy get --full` output — delete the header lines above "---" (policy set strips them itself)'
      : 'a policy is a single YAML document; remove the extra "---" line';
    return positioned(
      file,
      position,
      [],
      'ERR_POLICY_YAML_SYNTAX',
      `more than one YAML document — ${hint}`,
    );
  }
  return positioned(file, position, path, fallbackCode, `${error.message} (YAML ${error.code})`);
}

function findSections(doc: Document): PolicySection[] {
  if (!isMap(doc.contents)) return [];
  const present = new Set(
    doc.contents.items.map((pair) => (isScalar(pair.key) ? String(pair.key.value) : '')),
  );
  return SECTION_ORDER.filter((section) => present.has(section));
}

function positioned(
  file: string,
  position: { readonly line: number; readonly column: number },
  path: readonly PathSegment[],
  code: PolicyDiagnosticCode,
  message: string,
  extra: { readonly expected?: string; readonly actual?: string } = {},
): Diagnostic {
  return {
    file,
    line: position.line,
    column: position.column,
    path: formatPath(path),
    code,
    message,
    ...(extra.expected === undefined ? {} : { expected: extra.expected }),
    ...(extra.actual === undefined ? {} : { actual: extra.actual }),
    severity: severityOf(code),
  };
}

function finish(
  diagnostics: readonly Diagnostic[],
  sections: readonly PolicySection[],
): ParseResult {
  const seen = new Set<string>();
  const unique = diagnostics.filter((d) => {
    const key = `${d.line}:${d.column}:${d.code}:${d.path}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // Array.prototype.sort is stable, so findings on one position keep their discovery order.
  unique.sort((a, b) => a.line - b.line || a.column - b.column);
  return { diagnostics: unique, sections };
}

function fail(diagnostics: Diagnostic[]): ParseResult {
  return { diagnostics, sections: [] };
}

function isPrefix(prefix: readonly PathSegment[], path: readonly PathSegment[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, index) => path[index] === segment);
}
