import {
  OpenShellError,
  formatDiagnostic,
  parsePolicy,
  stripPolicyHeader,
  type Diagnostic,
  type Policy,
} from '@openshell/policy-schema';
import { readInputFile } from '../read-input.js';

export interface PolicyForSet {
  /** The text to send: the header lines (if any) blanked, so line numbers stay the user's. */
  readonly text: string;
  /** Name used in diagnostics, here and on the gateway. */
  readonly fileName: string;
  readonly policy: Policy;
  readonly headerStripped: boolean;
  readonly warnings: readonly Diagnostic[];
}

/**
 * Reads and validates the `policy set` file locally before any RPC, so a typo costs no round
 * trip and its diagnostics point at the user's own file:line:col. A leftover `policy get
 * --full` header is blanked, not removed, for the same reason.
 */
export async function readPolicyForSet(file: string): Promise<PolicyForSet> {
  const raw = await readInputFile(file);
  const { text, stripped } = stripPolicyHeader(raw);
  const fileName = file === '-' ? '<stdin>' : file;
  const { policy, diagnostics } = parsePolicy(text, { file: fileName });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (policy === undefined) {
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `${fileName} is not a valid policy:\n${errors.map(formatDiagnostic).join('\n')}`,
      { details: { diagnostics: errors } },
    );
  }
  return {
    text,
    fileName,
    policy,
    headerStripped: stripped,
    warnings: diagnostics.filter((d) => d.severity === 'warning'),
  };
}
