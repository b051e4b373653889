import {
  DEFAULT_POLICY,
  OpenShellError,
  formatDiagnostic,
  parsePolicy,
  stripPolicyHeader,
} from '@openshell/policy-schema';
import { readInputFile } from '../read-input.js';
import type { PolicyUnderTest } from './prove-types.js';

/**
 * The policy a proof runs under: the gateway's default (deny all egress), or `--policy FILE`
 * validated here first, so an invalid file costs no sandbox (exit 2 with file:line:col).
 */
export async function loadPolicyUnderTest(file: string | undefined): Promise<PolicyUnderTest> {
  if (file === undefined) return { label: 'default', policy: DEFAULT_POLICY };
  const { text } = stripPolicyHeader(await readInputFile(file));
  const fileName = file === '-' ? '<stdin>' : file;
  const { policy, diagnostics } = parsePolicy(text, { file: fileName });
  if (policy === undefined) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `${fileName} is not a valid policy:\n${errors.map(formatDiagnostic).join('\n')}\n` +
        `Run 'openshell policy validate ${file}' for details.`,
      { details: { diagnostics: errors } },
    );
  }
  return { label: fileName, policy, input: { yaml: text, fileName } };
}
