import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { PathSegment } from '../validate/issue.js';

export interface SourcePosition {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

interface Step {
  readonly key?: unknown;
  readonly value: unknown;
}

/**
 * Finds where a path points in the YAML source: the key node (`at: 'key'`) or the value node.
 * A path that runs past the document (a missing key) lands on the deepest node that exists —
 * for "missing host" that is the endpoint mapping, which is where the key should be added.
 */
export function locatePath(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PathSegment[],
  at: 'key' | 'value',
): SourcePosition {
  const steps: Step[] = [{ value: doc.contents }];
  for (const segment of path) {
    const last = steps.at(-1);
    const next = last === undefined ? undefined : childStep(doc, last.value, segment);
    if (next === undefined) break;
    steps.push(next);
  }
  const complete = steps.length === path.length + 1;
  const last = steps.at(-1) ?? { value: doc.contents };
  const offset = complete
    ? offsetForStep(last, at)
    : (offsetOf(last.key) ?? offsetOf(last.value) ?? offsetOfDocument(doc));
  return toPosition(lineCounter, offset ?? offsetOfDocument(doc));
}

/** 1-based line and column of a source offset. */
export function toPosition(lineCounter: LineCounter, offset: number): SourcePosition {
  const { line, col } = lineCounter.linePos(Math.max(0, offset));
  return { line: Math.max(1, line), column: Math.max(1, col) };
}

/**
 * The path of the deepest node whose source range contains the offset (used to name the
 * place of YAML-level errors such as duplicate keys, which the parser reports by offset).
 */
export function findPathAt(doc: Document, offset: number): PathSegment[] {
  const path: PathSegment[] = [];
  let node: unknown = doc.contents;
  for (let depth = 0; depth < 64; depth += 1) {
    if (isMap(node)) {
      const pair = node.items.find((item) => containsOffset(item.key, item.value, offset));
      if (pair === undefined || !isScalar(pair.key)) return path;
      path.push(String(pair.key.value));
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => containsOffset(item, undefined, offset));
      if (index < 0) return path;
      path.push(index);
      node = node.items[index];
    } else {
      return path;
    }
  }
  return path;
}

function childStep(doc: Document, parent: unknown, segment: PathSegment): Step | undefined {
  const node = isAlias(parent) ? parent.resolve(doc) : parent;
  if (isMap(node)) {
    const pair = node.items.find((item) => {
      const key = isAlias(item.key) ? item.key.resolve(doc) : item.key;
      return isScalar(key) && String(key.value) === String(segment);
    });
    return pair === undefined ? undefined : { key: pair.key, value: pair.value };
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item: unknown = node.items[segment];
    return item === undefined ? undefined : { value: item };
  }
  return undefined;
}

function offsetForStep(step: Step, at: 'key' | 'value'): number | undefined {
  if (at === 'key') return offsetOf(step.key) ?? offsetOf(step.value);
  // `host:` with nothing after it has an empty null scalar at the end of the line; the key
  // is the useful place to point at.
  if (isScalar(step.value) && step.value.value === null && step.value.source === '') {
    return offsetOf(step.key) ?? offsetOf(step.value);
  }
  return offsetOf(step.value) ?? offsetOf(step.key);
}

function offsetOfDocument(doc: Document): number {
  return offsetOf(doc.contents) ?? 0;
}

function containsOffset(first: unknown, last: unknown, offset: number): boolean {
  const start = offsetOf(first);
  const end = endOf(last ?? first) ?? endOf(first);
  return start !== undefined && end !== undefined && start <= offset && offset < end;
}

function offsetOf(node: unknown): number | undefined {
  if (isPair(node)) return offsetOf(node.key);
  const range = rangeOf(node);
  return range?.[0];
}

function endOf(node: unknown): number | undefined {
  const range = rangeOf(node);
  return range?.[2] ?? range?.[1];
}

function rangeOf(node: unknown): readonly number[] | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  const range = (node as { range?: unknown }).range;
  if (!Array.isArray(range)) return undefined;
  const numbers = range.filter((n): n is number => typeof n === 'number');
  return numbers.length === range.length ? numbers : undefined;
}
