/** Counter and gauge names exposed by `metrics()`, each with its HELP text. */
const HELP = {
  openshell_proxy_decisions_total: [
    'counter',
    'Decisions taken by the proxy, by sandbox, layer, action and outcome.',
  ],
  openshell_proxy_connections_total: ['counter', 'Client TCP connections accepted.'],
  openshell_proxy_bad_requests_total: ['counter', 'Requests refused as unparsable (400/408/431).'],
  openshell_proxy_upstream_errors_total: ['counter', 'Upstream dial, TLS or protocol failures.'],
  openshell_proxy_policy_applies_total: ['counter', 'Policies applied, by result (ok or error).'],
  openshell_proxy_tunnels_active: ['gauge', 'Open CONNECT tunnels, by sandbox.'],
  openshell_proxy_leaf_certificates: ['gauge', 'Leaf certificates in the cache.'],
} as const;

export type MetricName = keyof typeof HELP;
type Labels = Readonly<Record<string, string>>;

export interface Metrics {
  inc(name: MetricName, labels?: Labels, by?: number): void;
  set(name: MetricName, labels: Labels, value: number): void;
  /** Prometheus text exposition format 0.0.4. */
  render(): string;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function keyOf(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`)
    .join(',');
}

/** In-memory counters rendered as Prometheus text. */
export function createMetrics(): Metrics {
  const series = new Map<MetricName, Map<string, number>>();
  const table = (name: MetricName): Map<string, number> => {
    let t = series.get(name);
    if (!t) {
      t = new Map();
      series.set(name, t);
    }
    return t;
  };
  return {
    inc(name, labels = {}, by = 1) {
      const t = table(name);
      const k = keyOf(labels);
      t.set(k, (t.get(k) ?? 0) + by);
    },
    set(name, labels, value) {
      table(name).set(keyOf(labels), value);
    },
    render() {
      const lines: string[] = [];
      for (const [name, [type, help]] of Object.entries(HELP) as Array<
        [MetricName, readonly [string, string]]
      >) {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
        const t = series.get(name);
        if (!t || t.size === 0) {
          if (type === 'counter') lines.push(`${name} 0`);
          continue;
        }
        for (const [k, v] of t) lines.push(k ? `${name}{${k}} ${v}` : `${name} ${v}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
