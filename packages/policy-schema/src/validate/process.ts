import { describeValue, getOwn, isRecord } from './guards.js';
import { createIssue, type Issue } from './issue.js';

/** Highest id accepted: 4294967295 is (uid_t)-1, which setresuid reads as "leave unchanged". */
const MAX_ID = 4_294_967_294n;
const FIELDS = ['run_as_user', 'run_as_group'] as const;

/** Checks run_as_user/run_as_group: `sandbox` or 1..4294967294; root and 0 refused. */
export function validateProcessPolicy(section: unknown): Issue[] {
  if (!isRecord(section)) return [];
  const issues: Issue[] = [];
  for (const field of FIELDS) {
    const value = getOwn(section, field);
    // Non-integers are the schema's type error; reporting them twice would be noise.
    if (typeof value !== 'string' && (typeof value !== 'number' || !Number.isInteger(value))) {
      continue;
    }
    const kind = classifyIdentity(value);
    if (kind === 'ok') continue;
    const noun = field === 'run_as_user' ? 'uid' : 'gid';
    issues.push(
      kind === 'root'
        ? createIssue(
            ['process', field],
            'ERR_POLICY_RUN_AS_ROOT',
            `${describeValue(value)} would run the agent ${field === 'run_as_user' ? 'as root' : 'in the root group'} — use "sandbox" or a ${noun} 1..4294967294`,
            { expected: `"sandbox" or a ${noun} 1..4294967294`, actual: describeValue(value) },
          )
        : createIssue(
            ['process', field],
            'ERR_POLICY_RUN_AS_INVALID',
            `${describeValue(value)} is not allowed — use "sandbox" or a numeric ${noun} 1..4294967294`,
            { expected: `"sandbox" or a ${noun} 1..4294967294`, actual: describeValue(value) },
          ),
    );
  }
  return issues;
}

/** The identity as it is stored in Policy: `sandbox` or a decimal id without leading zeros. */
export function normaliseIdentity(value: string | number): string {
  if (typeof value === 'number') return String(value);
  return /^[0-9]+$/.test(value) ? BigInt(value).toString() : value;
}

function classifyIdentity(value: string | number): 'ok' | 'root' | 'invalid' {
  if (value === 'sandbox') return 'ok';
  if (value === 'root') return 'root';
  const text = String(value);
  if (!/^[0-9]+$/.test(text)) return 'invalid';
  const id = BigInt(text);
  if (id === 0n) return 'root';
  return id <= MAX_ID ? 'ok' : 'invalid';
}
