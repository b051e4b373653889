/**
 * Type guards for data that came out of YAML. Validators run even when the schema already
 * found a type error, so every access checks the shape first and skips what the schema
 * reports.
 */

/** True for a mapping (a plain object), not a list or null. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own key lookup that never reaches Object.prototype (`constructor`, `__proto__`). */
export function getOwn(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The entries of a list, or none when the value is not a list. */
export function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The entries of a mapping, or none when the value is not a mapping. */
export function entriesOf(value: unknown): readonly (readonly [string, unknown])[] {
  return isRecord(value) ? Object.entries(value) : [];
}

/** True when the string holds a C0/C1 control character or DEL (never legitimate in names and paths). */
export function hasControlCharacter(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- the point is to find control characters
  return /[\u0000-\u001f\u007f-\u009f]/u.test(text);
}

/** A short, quoted rendering of a value for `actual` and messages. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(truncate(value));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

/** Like describeValue, with the type spelled out for type errors: `a string ("443")`. */
export function describeTyped(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return `a string (${describeValue(value)})`;
  if (typeof value === 'number') {
    return Number.isInteger(value) ? `an integer (${value})` : `a number (${value})`;
  }
  if (typeof value === 'boolean') return `a boolean (${value})`;
  return describeValue(value);
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
