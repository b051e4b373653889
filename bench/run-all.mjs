// Runs every benchmark in this folder one after another (never in parallel: they share two
// cores and measure latency), each writing its own table to bench/results/, then rebuilds the
// one summary table bench/README.md (bench/write-readme.mjs). Run as root after a build:
// `pnpm bench`. Pass names to run a subset: `pnpm bench -- proxy sandbox-start`.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHES = [
  'policy-decide',
  'policy-schema-parse',
  'launcher-overhead',
  'sandbox-start',
  'sandbox-runtime',
  'agent-exec',
  'proxy',
  'gateway',
  'docker-driver',
];

const dir = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2).filter((a) => a !== '--');
const unknown = wanted.filter((name) => !BENCHES.includes(name));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.join(', ')}\n`,
  );
  process.exit(2);
}

const failed = [];
for (const name of wanted.length > 0 ? wanted : BENCHES) {
  process.stderr.write(`\n== bench ${name}\n`);
  const started = Date.now();
  const result = spawnSync(process.execPath, [join(dir, `${name}.mjs`)], { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) failed.push(name);
  process.stderr.write(
    `== ${name}: ${result.status === 0 ? 'ok' : `FAILED (exit ${result.status})`} in ${seconds}s; table in bench/results/${name}.md\n`,
  );
}
// The summary table is rebuilt even when a benchmark failed: the rows of the others are new,
// and a failed one keeps its previous row with its own (older) date.
spawnSync(process.execPath, [join(dir, 'write-readme.mjs')], { stdio: 'inherit' });
if (failed.length > 0) {
  process.stderr.write(`\nfailed: ${failed.join(', ')}\n`);
  process.exit(1);
}
