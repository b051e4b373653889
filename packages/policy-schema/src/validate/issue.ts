import { POLICY_DIAGNOSTIC_CODES, type PolicyDiagnosticCode } from '../diagnostic-codes.js';

/** One step into the document: a mapping key or a list index. */
export type PathSegment = string | number;

/**
 * A finding before it has a position: validators work on plain data and name the place by
 * path; parsePolicy turns the path into file:line:col through the YAML tree.
 */
export interface Issue {
  readonly path: readonly PathSegment[];
  /** Point at the key (unknown/unsupported keys) or at the value (bad values). */
  readonly at: 'key' | 'value';
  readonly code: PolicyDiagnosticCode;
  readonly message: string;
  readonly expected?: string;
  readonly actual?: string;
  /**
   * A subtree that is wrong for this one reason (an unsupported feature): schema findings at
   * or below it are noise and are dropped.
   */
  readonly claims?: readonly PathSegment[];
}

export interface IssueDetails {
  readonly expected?: string;
  readonly actual?: string;
  readonly at?: 'key' | 'value';
  readonly claims?: readonly PathSegment[];
}

/** Builds an issue; severity comes from the code catalogue, so it cannot disagree with it. */
export function createIssue(
  path: readonly PathSegment[],
  code: PolicyDiagnosticCode,
  message: string,
  details: IssueDetails = {},
): Issue {
  return {
    path,
    at: details.at ?? 'value',
    code,
    message,
    ...(details.expected === undefined ? {} : { expected: details.expected }),
    ...(details.actual === undefined ? {} : { actual: details.actual }),
    ...(details.claims === undefined ? {} : { claims: details.claims }),
  };
}

/** Severity of a code, from the catalogue. */
export function severityOf(code: PolicyDiagnosticCode): 'error' | 'warning' {
  return POLICY_DIAGNOSTIC_CODES[code];
}
