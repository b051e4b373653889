import {
  OpenShellError,
  formatDiagnostic,
  hashPolicy,
  parsePolicy,
  policyToYaml,
  type Diagnostic,
  type Policy,
} from '@openshell/policy-schema';

function invalid(id: string, diagnostics: readonly Diagnostic[]): OpenShellError {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  return new OpenShellError(
    'ERR_POLICY_INVALID',
    `policy for sandbox ${id} is invalid:\n${errors.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}`,
    { details: { diagnostics: errors } },
  );
}

/**
 * Checks a normalised Policy object (as the gateway sends it, or its canonical JSON) by
 * rendering it back to policy text and parsing that: the result must parse cleanly and
 * hash identically. A hand-edited, truncated or hostile object therefore never reaches
 * compilePolicy unchecked, and policy-schema stays the only validator.
 */
function checkNormalised(id: string, candidate: unknown): Policy {
  let text: string;
  try {
    text = policyToYaml(candidate as Policy);
  } catch (error) {
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `policy for sandbox ${id} is not a policy object: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
  const parsed = parsePolicy(text, { file: `sandbox ${id} policy` });
  if (!parsed.policy) throw invalid(id, parsed.diagnostics);
  if (hashPolicy(parsed.policy) !== hashPolicy(candidate as Policy)) {
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `policy for sandbox ${id} is not in normalised form (it changes when re-validated); send the output of parsePolicy`,
    );
  }
  return parsed.policy;
}

/**
 * Turns what a caller sent into a validated Policy: policy text (YAML or JSON as a user
 * writes it), a normalised Policy object, or the canonical JSON of one.
 */
export function loadPolicy(id: string, input: Policy | string): Policy {
  if (typeof input !== 'string') return checkNormalised(id, input);
  const parsed = parsePolicy(input, { file: `sandbox ${id} policy` });
  if (parsed.policy) return parsed.policy;
  let json: unknown;
  try {
    json = JSON.parse(input);
  } catch {
    // Not JSON either: the parse diagnostics are the useful answer.
    throw invalid(id, parsed.diagnostics);
  }
  try {
    return checkNormalised(id, json);
  } catch {
    // Neither user-written nor normalised: report the diagnostics of the user-written reading.
    throw invalid(id, parsed.diagnostics);
  }
}
