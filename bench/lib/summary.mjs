// The one-line-per-number summary every benchmark writes beside its Markdown table
// (bench/results/<name>.json), from which bench/write-readme.mjs builds bench/README.md.
// A row is one headline number of ours, the peer measured in the same run where one exists,
// and the goal; the ratio is computed when the table is written, never typed in.
import { cpus, loadavg, release } from 'node:os';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** `AMD EPYC, 2 cores, Linux 6.18, Node v20.20.2`: enough to tell two machines apart. */
export function describeMachine() {
  const model = (cpus()[0]?.model ?? 'unknown CPU').replace(/\s+\d+-Core Processor$/, '').trim();
  return `${model}, ${String(cpus().length)} cores, Linux ${release()}, Node ${process.version}`;
}

/**
 * Writes bench/results/<name>.json.
 * rows: [{ metric, ours, unit, better: 'lower'|'higher', peer?: { name, value }, goal?: string,
 *          goalMet?: boolean, note?: string }]
 * `loadBefore` is the 1-minute load average when the run started (the machine may be shared).
 */
export function writeSummary(name, { command, rows, loadBefore }) {
  for (const row of rows) {
    if (typeof row.metric !== 'string' || !Number.isFinite(row.ours))
      throw new Error(`bench ${name}: summary row ${JSON.stringify(row)} has no number`);
    if (row.better !== 'lower' && row.better !== 'higher')
      throw new Error(`bench ${name}: row "${row.metric}" must say which way is better`);
  }
  const summary = {
    bench: name,
    date: new Date().toISOString(),
    machine: describeMachine(),
    load: { before: loadBefore ?? null, after: Number(loadavg()[0].toFixed(2)) },
    command,
    rows,
  };
  writeFileSync(join(RESULTS, `${name}.json`), `${JSON.stringify(summary, null, 2)}\n`);
}
