import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { PolicyDiagnosticCode } from '../diagnostic-codes.js';
import type { PathSegment } from '../validate/issue.js';

/** A finding made while reading the YAML tree, positioned by source offset. */
export interface YamlProblem {
  readonly offset: number;
  readonly path: readonly PathSegment[];
  readonly code: PolicyDiagnosticCode;
  readonly message: string;
  readonly actual?: string;
}

export interface YamlData {
  readonly data: unknown;
  readonly problems: readonly YamlProblem[];
}

/**
 * Caps the number of nodes visited, aliases expanded: "billion laughs" documents (aliases of
 * aliases) are a few hundred bytes of text but expand exponentially.
 */
export const MAX_YAML_NODES = 100_000;

/** A policy is about eight levels deep; far deeper nesting is an attack on the stack. */
export const MAX_YAML_DEPTH = 64;

// Tags of the YAML 1.2 core schema. Anything else (`!!binary`, `!!set`, `!custom`) has no
// meaning in a policy, and yaml-1.1 types would silently change what a value is.
const CORE_TAG_PREFIX = 'tag:yaml.org,2002:';
const SCALAR_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null'].map((t) => CORE_TAG_PREFIX + t),
);
const MAP_TAG = `${CORE_TAG_PREFIX}map`;
const SEQ_TAG = `${CORE_TAG_PREFIX}seq`;

class LimitExceeded extends Error {}

/**
 * Converts a parsed document into plain JSON-like data (objects, arrays, strings, numbers,
 * booleans, null). Unlike `doc.toJS()` it refuses non-string keys and foreign tags with a
 * position instead of stringifying them (and printing a process warning), and it bounds
 * alias expansion.
 */
export function convertYamlToData(doc: Document): YamlData {
  const problems: YamlProblem[] = [];
  let budget = MAX_YAML_NODES;
  // Nodes being converted right now: an alias to one of them is a cycle (`a: &x [*x]`).
  const inProgress = new Set<unknown>();

  function convert(node: unknown, path: PathSegment[]): unknown {
    budget -= 1;
    if (budget < 0) {
      throw new LimitExceeded(
        `the document expands to more than ${MAX_YAML_NODES} nodes (aliases included) — write it out without nested aliases`,
      );
    }
    if (path.length > MAX_YAML_DEPTH) {
      throw new LimitExceeded(`the document nests deeper than ${MAX_YAML_DEPTH} levels`);
    }
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (inProgress.has(target)) {
        problems.push({
          offset: offsetOf(node) ?? 0,
          path,
          code: 'ERR_POLICY_YAML_SYNTAX',
          message: `alias *${node.source} refers to a node that contains it — remove the recursive alias`,
        });
        return null;
      }
      // An unresolvable alias is already a YAML error; null keeps the walk going.
      return convert(target, path);
    }
    inProgress.add(node);
    try {
      return convertNode(node, path);
    } finally {
      inProgress.delete(node);
    }
  }

  function convertNode(node: unknown, path: PathSegment[]): unknown {
    if (isScalar(node)) {
      if (node.tag !== undefined && node.tag !== '!' && !SCALAR_TAGS.has(node.tag)) {
        reportTag(node, node.tag, path);
        return null;
      }
      const value = node.value;
      if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
      reportTag(node, typeof value, path);
      return null;
    }
    if (isMap(node)) {
      if (node.tag !== undefined && node.tag !== MAP_TAG) reportTag(node, node.tag, path);
      const record: Record<string, unknown> = {};
      for (const pair of node.items) {
        const key = keyOf(pair.key);
        if (key === undefined) {
          problems.push({
            offset: offsetOf(pair.key) ?? offsetOf(node) ?? 0,
            path,
            code: 'ERR_POLICY_TYPE',
            message: 'mapping keys must be plain strings — quote the key or remove the "?" form',
          });
          continue;
        }
        // defineProperty, not assignment: a `__proto__` key must stay an ordinary (unknown) key.
        Object.defineProperty(record, key, {
          value: convert(pair.value, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return record;
    }
    if (isSeq(node)) {
      if (node.tag !== undefined && node.tag !== SEQ_TAG) reportTag(node, node.tag, path);
      return node.items.map((item, index) => convert(item, [...path, index]));
    }
    return null;
  }

  function keyOf(key: unknown): string | undefined {
    const resolved = isAlias(key) ? key.resolve(doc) : key;
    if (!isScalar(resolved)) return undefined;
    const value = resolved.value;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return undefined;
  }

  function reportTag(node: Node, tag: string, path: readonly PathSegment[]): void {
    problems.push({
      offset: offsetOf(node) ?? 0,
      path,
      code: 'ERR_POLICY_YAML_TAG',
      message: `YAML tag ${shortTag(tag)} is not allowed in a policy — remove the tag and write a plain value`,
      actual: shortTag(tag),
    });
  }

  try {
    return { data: convert(doc.contents, []), problems };
  } catch (error) {
    if (!(error instanceof LimitExceeded)) throw error;
    return {
      data: undefined,
      problems: [{ offset: 0, path: [], code: 'ERR_POLICY_TOO_LARGE', message: error.message }],
    };
  }
}

function offsetOf(node: unknown): number | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  const range = (node as { range?: unknown }).range;
  return Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined;
}

function shortTag(tag: string): string {
  return tag.startsWith(CORE_TAG_PREFIX) ? `!!${tag.slice(CORE_TAG_PREFIX.length)}` : tag;
}
