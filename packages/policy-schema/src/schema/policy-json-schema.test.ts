import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { POLICY_JSON_SCHEMA, parsePolicy } from '../index.js';

type SchemaNode = Record<string, unknown>;

/** Every schema object in the tree with the JSON path that leads to it. */
function walk(node: unknown, path = '#'): [string, SchemaNode][] {
  if (typeof node !== 'object' || node === null) return [];
  if (Array.isArray(node)) return node.flatMap((item, i) => walk(item, `${path}/${i}`));
  const schema = node as SchemaNode;
  return [
    [path, schema],
    ...Object.entries(schema).flatMap(([key, child]) => walk(child, `${path}/${key}`)),
  ];
}

const nodes = walk(POLICY_JSON_SCHEMA);
const propertyNodes = nodes.filter(([path]) => /\/properties\/[^/]+$/.test(path));

describe('POLICY_JSON_SCHEMA', () => {
  test('compiles under ajv strict mode', () => {
    const ajv = new Ajv({ strict: true, allowUnionTypes: true });
    expect(() => ajv.compile(POLICY_JSON_SCHEMA)).not.toThrow();
  });

  test('every property has a description', () => {
    const missing = propertyNodes.filter(([, schema]) => typeof schema['description'] !== 'string');
    expect(missing.map(([path]) => path)).toEqual([]);
    expect(propertyNodes.length).toBeGreaterThan(40);
  });

  test('every list property says what absent and empty mean', () => {
    const lists = propertyNodes.filter(([, schema]) => schema['type'] === 'array');
    const vague = lists.filter(([, schema]) => {
      const text = String(schema['description']);
      return !/absent|required/i.test(text) || !/empty/i.test(text);
    });
    expect(vague.map(([path]) => path)).toEqual([]);
    expect(lists.length).toBeGreaterThanOrEqual(11);
  });

  test('every object with properties refuses unknown keys', () => {
    const open = nodes.filter(
      ([, schema]) => 'properties' in schema && schema['additionalProperties'] !== false,
    );
    expect(open.map(([path]) => path)).toEqual([]);
  });

  test('only the id/name maps accept arbitrary keys', () => {
    const maps = nodes
      .filter(([, schema]) => typeof schema['additionalProperties'] === 'object')
      .map(([path]) => path);
    expect(maps).toEqual([
      '#/properties/network_policies',
      '#/definitions/httpMatcher/properties/query',
      '#/definitions/inference/properties/routes',
    ]);
  });

  test('used on its own (as an editor would), it agrees with parsePolicy on the examples', () => {
    const dir = fileURLToPath(new URL('../../../../examples/policies/', import.meta.url));
    const validate = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true }).compile(
      POLICY_JSON_SCHEMA,
    );
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
      const text = readFileSync(`${dir}${name}`, 'utf8');
      if (parsePolicy(text).policy !== undefined) {
        expect([name, validate(parseYaml(text))]).toEqual([name, true]);
      }
    }
    const unknownKey = readFileSync(`${dir}invalid-unknown-key.yaml`, 'utf8');
    expect(validate(parseYaml(unknownKey))).toBe(false);
  });
});
