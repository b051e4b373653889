import { createHash } from 'node:crypto';
import type { Policy } from './types.js';

/**
 * The canonical JSON encoding of a policy: object keys sorted (by UTF-16 code unit, as
 * `Array.prototype.sort` does), list order kept, no whitespace, absent optional fields left
 * out. Two policies that differ only in how their maps were written encode identically;
 * reordering a list is a change (the first matching rule can decide).
 */
export function canonicalPolicyJson(policy: Policy): string {
  return toCanonicalJson(policy);
}

/** SHA-256 of canonicalPolicyJson, as 64 lower-case hex digits: the revision identity. */
export function hashPolicy(policy: Policy): string {
  return createHash('sha256').update(canonicalPolicyJson(policy), 'utf8').digest('hex');
}

/** The same canonical encoding for any part of a policy (a rule, a matcher list). */
export function toCanonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toCanonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${toCanonicalJson(child)}`).join(',')}}`;
  }
  // Policy holds only strings, finite numbers and booleans; JSON.stringify renders them canonically.
  return JSON.stringify(value) ?? 'null';
}
