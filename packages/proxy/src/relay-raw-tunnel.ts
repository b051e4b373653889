import type { Socket } from 'node:net';
import type { CallerIdentity } from './caller/caller-resolver.js';
import { toRawResponse, upstreamFailed } from './http/denial-bodies.js';
import { formatAuthority } from './http/request-target.js';
import type { ProxyContext } from './proxy-context.js';
import type { DialTarget } from './ssrf/resolve-destination.js';

export interface TunnelTarget {
  readonly sandboxId: string;
  readonly host: string;
  readonly port: number;
  readonly caller: CallerIdentity;
  readonly targets: readonly DialTarget[];
}

export const CONNECT_ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

/**
 * Joins two sockets in both directions. `pipe` carries a FIN across (half-close: the
 * client may finish sending and still read the reply) and applies back-pressure, so a
 * slow reader never makes the proxy buffer without bound. Idle on both sides closes both.
 */
export function spliceSockets(a: Socket, b: Socket, idleTimeoutMs: number): void {
  const closeBoth = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', closeBoth);
  b.on('error', closeBoth);
  a.once('close', () => b.destroy());
  b.once('close', () => a.destroy());
  if (idleTimeoutMs > 0) {
    a.setTimeout(idleTimeoutMs, closeBoth);
    b.setTimeout(idleTimeoutMs, closeBoth);
  }
  a.pipe(b);
  b.pipe(a);
}

/**
 * Opaque tunnel for endpoints judged at L4 only (or `tls: skip`). The upstream is dialled
 * (or the upstream proxy's CONNECT answered) before answering 200, so a dead upstream or a
 * refusing upstream proxy becomes a 502 rather than an empty tunnel. `answered` runs once,
 * right after the client got its 200 or 502 or went away: the caller records the decision
 * there, off the path to the 200 (the decision itself was taken before the dial).
 */
export function relayRawTunnel(
  ctx: ProxyContext,
  client: Socket,
  head: Buffer,
  t: TunnelTarget,
  answered: () => void = () => undefined,
): void {
  let upstream: Socket | null = null;
  let pending: (() => void) | null = answered;
  const announce = (): void => {
    const run = pending;
    pending = null;
    run?.();
  };
  const unregister = ctx.tunnels.add({
    sandboxId: t.sandboxId,
    host: t.host,
    port: t.port,
    caller: t.caller,
    kind: 'raw',
    close() {
      client.destroy();
      upstream?.destroy();
    },
  });
  client.once('close', () => {
    announce();
    unregister();
    upstream?.destroy();
  });
  ctx.connectUpstream(t).then(
    (socket) => {
      if (client.destroyed) {
        announce();
        socket.destroy();
        return;
      }
      upstream = socket;
      client.write(CONNECT_ESTABLISHED);
      announce();
      if (head.length > 0) socket.write(head);
      spliceSockets(client, socket, ctx.limits.idleTimeoutMs);
    },
    (error: unknown) => {
      announce();
      ctx.metrics.inc('openshell_proxy_upstream_errors_total');
      const detail = `cannot connect to ${formatAuthority(t.host, t.port)}: ${error instanceof Error ? error.message : String(error)}`;
      if (!client.destroyed) client.end(toRawResponse(upstreamFailed(detail)));
      unregister();
    },
  );
}
