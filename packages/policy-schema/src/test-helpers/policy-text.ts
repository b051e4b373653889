import { formatDiagnostic, parsePolicy, type Diagnostic, type ParseResult } from '../index.js';

/**
 * Strips the common indentation of a template literal so tests can write YAML indented with
 * the code; the first line break after the backtick is dropped, so line 1 is the first line.
 */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce(
    (text, part, index) => text + part + (index < values.length ? String(values[index]) : ''),
    '',
  );
  const lines = raw
    .replace(/^\n/, '')
    .replace(/\n[ \t]*$/, '\n')
    .split('\n');
  const indents = lines
    .filter((line) => line.trim() !== '')
    .map((line) => /^ */.exec(line)?.[0].length ?? 0);
  const indent = Math.min(...indents);
  return lines.map((line) => line.slice(indent)).join('\n');
}

/**
 * A policy with one network policy `api` (curl) whose single endpoint is `endpoint`, given as
 * YAML mapping lines. The endpoint's first line is line 5 of the document.
 */
export function endpointPolicy(endpoint: string): string {
  const lines = dedentLines(endpoint);
  const body = lines
    .map((line, index) => `${index === 0 ? '      - ' : '        '}${line}`)
    .join('\n');
  return `version: 1\nnetwork_policies:\n  api:\n    endpoints:\n${body}\n    binaries:\n      - path: /usr/bin/curl\n`;
}

function dedentLines(text: string): string[] {
  const lines = text.split('\n');
  while (lines.length > 0 && lines[0]?.trim() === '') lines.shift();
  while (lines.length > 0 && lines.at(-1)?.trim() === '') lines.pop();
  const indent = Math.min(
    ...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0),
  );
  return lines.map((line) => line.slice(indent));
}

/** Every diagnostic rendered the way the CLI prints it, one per line. */
export function render(text: string, file = 'policy.yaml'): string {
  return parsePolicy(text, { file }).diagnostics.map(formatDiagnostic).join('\n');
}

/** Codes of the error diagnostics only (warnings do not block). */
export function errorCodes(text: string): string[] {
  return errorsOf(parsePolicy(text)).map((d) => d.code);
}

/** Codes of every diagnostic, errors and warnings. */
export function allCodes(text: string): string[] {
  return parsePolicy(text).diagnostics.map((d) => d.code);
}

export function errorsOf(result: ParseResult): Diagnostic[] {
  return result.diagnostics.filter((d) => d.severity === 'error');
}

/** Parses text that must be valid and returns its policy (fails the test with diagnostics otherwise). */
export function parseValid(text: string): NonNullable<ParseResult['policy']> {
  const result = parsePolicy(text);
  if (result.policy === undefined) {
    throw new Error(
      `expected a valid policy, got:\n${result.diagnostics.map(formatDiagnostic).join('\n')}`,
    );
  }
  return result.policy;
}
