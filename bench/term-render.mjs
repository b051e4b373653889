// `openshell term` under a large decision log: the issue asks that thousands of log lines do
// not slow input. Measures, on the built CLI: formatting+buffering 10,000 entries, filtering
// them, and the time from a key press (k: scroll one row) to the new frame with the log pane
// full, via ink-testing-library (same React/ink rendering as a terminal, no TTY I/O).
//
//   pnpm --filter @openshell/cli build && node bench/term-render.mjs
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages/cli');
const requireCli = createRequire(join(cli, 'package.json'));
const importCli = (spec) => import(requireCli.resolve(spec));
const { render } = await importCli('ink-testing-library');
const { createElement } = await importCli('react');
const {
  Action,
  LogEntry,
  LogSource,
  LogLevel,
  Sandbox,
  SandboxPhase,
  WatchEventType,
  DecisionLayer,
} = await importCli('@openshell/proto');
const { appendLogLines, filterLogLines } = await import(join(cli, 'dist/term/log-buffer.js'));
const { TermApp } = await import(join(cli, 'dist/term/term-app.js'));

const N = 10_000;
const entries = Array.from({ length: N }, (_, i) =>
  LogEntry.fromPartial({
    source: LogSource.LOG_SOURCE_PROXY,
    level: LogLevel.LOG_LEVEL_INFO,
    event: {
      $case: 'decision',
      value: {
        timeMs: 1_700_000_000_000 + i,
        sandboxId: 'id-demo',
        sandboxName: 'demo',
        action: i % 10 === 0 ? Action.ACTION_DENY : Action.ACTION_ALLOW,
        layer: DecisionLayer.DECISION_LAYER_L4,
        binary: '/usr/bin/curl',
        host: `host${i}.example.com`,
        port: 443,
        reason: 'bench',
      },
    },
  }),
);

function time(fn) {
  const start = process.hrtime.bigint();
  const value = fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

let lines = [];
const buffered = time(() => {
  for (let i = 0; i < N; i += 100) lines = appendLogLines(lines, entries.slice(i, i + 100));
  return lines.length;
});
const filtered = time(() => filterLogLines(lines, { action: 'deny', text: 'host9' }).length);

const sandbox = Sandbox.fromPartial({
  id: 'id-demo',
  name: 'demo',
  createdAtMs: Date.now(),
  phase: SandboxPhase.SANDBOX_PHASE_READY,
  currentPolicyVersion: 1,
});
const never = (signal) => new Promise((resolve) => signal.addEventListener('abort', resolve));
const gateway = {
  watchSandboxes: (onEvent, signal) => {
    onEvent({ type: WatchEventType.WATCH_EVENT_TYPE_ADDED, sandbox });
    onEvent({ type: WatchEventType.WATCH_EVENT_TYPE_SYNCED });
    return never(signal);
  },
  followLogs: (_name, onEntry, signal) => {
    for (const entry of entries) onEntry(entry);
    return never(signal);
  },
  followDecisions: (_onEntry, signal) => never(signal),
  getPolicyYaml: async () => 'version: 1\n',
  deleteSandbox: async () => undefined,
};
const app = render(
  createElement(TermApp, { gateway, color: false, size: { columns: 80, rows: 24 } }),
);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(check) {
  const start = process.hrtime.bigint();
  while (!check(app.lastFrame() ?? '')) await new Promise((r) => setImmediate(r));
  return Number(process.hrtime.bigint() - start) / 1e6;
}
await waitFor((f) => f.includes('demo'));
app.stdin.write('l');
const firstPaint = await waitFor((f) => f.includes(`host${N - 1}.example.com`));
const keyMs = [];
for (let i = 1; i <= 50; i += 1) {
  const start = process.hrtime.bigint();
  app.stdin.write('k');
  // Scrolling back i rows puts host(N-1-i) on the bottom row.
  await waitFor(
    (f) =>
      f
        .trimEnd()
        .split('\n')
        .at(-2)
        ?.includes(`host${N - 1 - i}.`) === true,
  );
  keyMs.push(Number(process.hrtime.bigint() - start) / 1e6);
  await sleep(1);
}
app.unmount();
keyMs.sort((a, b) => a - b);
const pct = (p) =>
  keyMs[Math.min(keyMs.length - 1, Math.floor((p / 100) * keyMs.length))].toFixed(2);
console.log(`buffer ${N} entries (bursts of 100): ${buffered.ms.toFixed(1)} ms`);
console.log(
  `filter ${N} lines (deny + text): ${filtered.ms.toFixed(2)} ms → ${filtered.value} lines`,
);
console.log(`log pane with ${N} lines, first paint after l: ${firstPaint.toFixed(1)} ms`);
console.log(
  `key k → new frame (${keyMs.length} presses): p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${keyMs.at(-1).toFixed(2)} ms`,
);
process.exit(0);
