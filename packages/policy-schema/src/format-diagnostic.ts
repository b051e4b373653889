import type { Diagnostic } from './types.js';

/**
 * One diagnostic as a line: `file:line:col path: message` (path left out when empty), e.g.
 * `policy.yaml:12:9 network_policies.github.endpoints[0].host: "*.com" is too broad — …`.
 * Warnings (which do not make a policy invalid) say so: `… path: warning: message`.
 */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  const where = `${diagnostic.file}:${diagnostic.line}:${diagnostic.column}`;
  const message =
    diagnostic.severity === 'warning' ? `warning: ${diagnostic.message}` : diagnostic.message;
  return diagnostic.path === '' ? `${where} ${message}` : `${where} ${diagnostic.path}: ${message}`;
}
