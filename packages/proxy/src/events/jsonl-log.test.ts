import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createJsonlLog } from './jsonl-log.js';
import { createMetrics } from './metrics.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('JSON-lines log', () => {
  test('rotates by size and keeps the configured number of generations, each line whole', () => {
    dir = mkdtempSync(join(tmpdir(), 'jsonl-'));
    const path = join(dir, 'nested', 'proxy.jsonl');
    const log = createJsonlLog({ path, maxBytes: 200, keep: 2 });
    for (let i = 0; i < 20; i++) log.write({ i, pad: 'x'.repeat(40) });
    log.close();
    expect(readdirSync(join(dir, 'nested')).sort()).toEqual([
      'proxy.jsonl',
      'proxy.jsonl.1',
      'proxy.jsonl.2',
    ]);
    const lines = ['proxy.jsonl.2', 'proxy.jsonl.1', 'proxy.jsonl']
      .flatMap((f) =>
        readFileSync(join(dir, 'nested', f), 'utf8')
          .trim()
          .split('\n'),
      )
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(lines).toEqual(Array.from({ length: lines.length }, (_, k) => 20 - lines.length + k));
    for (const f of readdirSync(join(dir, 'nested'))) {
      expect(readFileSync(join(dir, 'nested', f)).length).toBeLessThanOrEqual(200);
    }
  });
});

describe('metrics', () => {
  test('renders Prometheus text with labels escaped and zero counters present', () => {
    dir = mkdtempSync(join(tmpdir(), 'metrics-'));
    const m = createMetrics();
    m.inc('openshell_proxy_decisions_total', {
      sandbox: 'a"b',
      action: 'deny',
      layer: 'l4',
      outcome: 'policy_denied',
    });
    m.inc('openshell_proxy_decisions_total', {
      sandbox: 'a"b',
      action: 'deny',
      layer: 'l4',
      outcome: 'policy_denied',
    });
    m.set('openshell_proxy_tunnels_active', { sandbox: 'a' }, 3);
    const text = m.render();
    expect(text).toContain(
      'openshell_proxy_decisions_total{action="deny",layer="l4",outcome="policy_denied",sandbox="a\\"b"} 2\n',
    );
    expect(text).toContain('openshell_proxy_tunnels_active{sandbox="a"} 3\n');
    expect(text).toContain('openshell_proxy_connections_total 0\n');
    expect(text).toContain('# TYPE openshell_proxy_tunnels_active gauge\n');
  });
});
