import {
  OpenShellError,
  formatDiagnostic,
  parsePolicy,
  stripPolicyHeader,
  type Diagnostic,
  type Policy,
} from '@openshell/policy-schema';
import { readInputFile } from './read-input.js';

export interface LoadedPolicy {
  readonly file: string;
  readonly policy: Policy | undefined;
  readonly diagnostics: readonly Diagnostic[];
  /** True when a leftover `policy get --full` header was removed before parsing. */
  readonly headerStripped: boolean;
}

/** Reads and parses a policy file; never throws for an invalid policy (only for an unreadable file). */
export async function loadPolicyFile(file: string): Promise<LoadedPolicy> {
  const raw = await readInputFile(file);
  const { text, stripped } = stripPolicyHeader(raw);
  const name = file === '-' ? '<stdin>' : file;
  const result = parsePolicy(text, { file: name });
  return {
    file: name,
    policy: result.policy,
    diagnostics: result.diagnostics,
    headerStripped: stripped,
  };
}

/** Loads a policy and throws ERR_POLICY_INVALID (exit 2) with every diagnostic when invalid. */
export async function loadValidPolicy(file: string): Promise<Policy> {
  const loaded = await loadPolicyFile(file);
  if (loaded.policy === undefined) {
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `${loaded.file} is not a valid policy:\n${errors.map(formatDiagnostic).join('\n')}\n` +
        `Run 'openshell policy validate ${file}' for details.`,
      { details: { diagnostics: errors } },
    );
  }
  return loaded.policy;
}
