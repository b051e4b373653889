import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { GatewayStore, SandboxPhase } from '../store/gateway-store.js';

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

const PHASES: readonly SandboxPhase[] = ['Provisioning', 'Ready', 'Error', 'Deleting'];

/**
 * Health (`/healthz`: the process answers), readiness (`/readyz`: the store answers) and
 * Prometheus metrics (`/metrics`) on a plain-HTTP loopback port separate from the mTLS API,
 * so probes and scrapers need no client certificate.
 */
export async function startHttpServer(options: {
  readonly host: string;
  readonly port: number;
  readonly store: GatewayStore;
  readonly proxyConnected: () => boolean;
  readonly version: string;
}): Promise<HttpServer> {
  const app = new Hono();
  app.get('/healthz', (c) => c.text('ok\n'));
  app.get('/readyz', async (c) => {
    try {
      await options.store.ping();
      return c.text('ready\n');
    } catch (error) {
      return c.text(`not ready: state store unavailable (${String(error)})\n`, 503);
    }
  });
  app.get('/metrics', async (c) => {
    const sandboxes = await options.store.listSandboxes();
    const lines = [
      '# HELP openshell_gateway_info Build information.',
      '# TYPE openshell_gateway_info gauge',
      `openshell_gateway_info{version="${options.version}",store="${options.store.kind}"} 1`,
      '# HELP openshell_sandboxes Sandboxes by phase.',
      '# TYPE openshell_sandboxes gauge',
      ...PHASES.map(
        (phase) =>
          `openshell_sandboxes{phase="${phase}"} ${String(sandboxes.filter((s) => s.phase === phase).length)}`,
      ),
      '# HELP openshell_proxy_connected Whether the egress proxy control stream is connected.',
      '# TYPE openshell_proxy_connected gauge',
      `openshell_proxy_connected ${options.proxyConnected() ? '1' : '0'}`,
      '',
    ];
    return c.body(lines.join('\n'), 200, { 'content-type': 'text/plain; version=0.0.4' });
  });
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, hostname: options.host, port: options.port },
      (info) => {
        resolve({
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
            }),
        });
      },
    );
    server.once('error', reject);
  });
}
