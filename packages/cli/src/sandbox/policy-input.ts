import {
  OpenShellError,
  formatDiagnostic,
  parsePolicy,
  stripPolicyHeader,
} from '@openshell/policy-schema';
import { readInputFile } from '../read-input.js';

/**
 * Reads `--policy FILE` and validates it locally, so an invalid file fails fast (exit 2, with
 * file:line:col diagnostics) before any gateway call. Returns the text the gateway receives:
 * the gateway validates again and its diagnostics carry the same file name.
 */
export async function readPolicyInput(file: string): Promise<{ yaml: string; fileName: string }> {
  const raw = await readInputFile(file);
  const { text, stripped } = stripPolicyHeader(raw);
  const fileName = file === '-' ? '<stdin>' : file;
  if (stripped) {
    process.stderr.write(`! ${fileName}: removed a 'policy get --full' header above '---'\n`);
  }
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
  return { yaml: text, fileName };
}
