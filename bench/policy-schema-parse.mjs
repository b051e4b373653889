// Measures @openshell/policy-schema's parse path on the example policies: the first parse
// (which compiles the JSON Schema), then steady-state parsePolicy, hashPolicy and
// policyToYaml. Run after `pnpm --filter @openshell/policy-schema build`:
//   node bench/policy-schema-parse.mjs
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const importStart = performance.now();
const { parsePolicy, hashPolicy, policyToYaml } =
  await import('../packages/policy-schema/dist/index.js');
const importMs = performance.now() - importStart;

const dir = fileURLToPath(new URL('../examples/policies/', import.meta.url));
const texts = readdirSync(dir)
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => readFileSync(`${dir}${name}`, 'utf8'));
// The first parse in a process compiles the JSON Schema (ajv); time it on its own.
const firstStart = performance.now();
parsePolicy(texts[0]);
const firstMs = performance.now() - firstStart;
const valid = texts.map((text) => parsePolicy(text).policy).filter((p) => p !== undefined);

function time(label, iterations, fn) {
  const start = performance.now();
  for (let i = 0; i < iterations; i += 1) fn(i);
  const perOp = (performance.now() - start) / iterations;
  return { label, iterations, usPerOp: Math.round(perOp * 1000 * 10) / 10 };
}

const results = [
  { label: 'import dist/index.js', ms: Math.round(importMs * 10) / 10 },
  { label: 'first parsePolicy (includes schema compile)', ms: Math.round(firstMs * 10) / 10 },
  time('parsePolicy (examples, round-robin)', 5000, (i) => parsePolicy(texts[i % texts.length])),
  time('hashPolicy', 20000, (i) => hashPolicy(valid[i % valid.length])),
  time('policyToYaml', 5000, (i) => policyToYaml(valid[i % valid.length])),
];
console.log(JSON.stringify({ node: process.version, examples: texts.length, results }, null, 2));
