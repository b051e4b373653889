import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket, type SecureContext } from 'node:tls';
import { normalizeHost } from '@openshell/policy-schema';
import type { InterceptedConnection, ProxyContext } from './proxy-context.js';
import { CONNECT_ESTABLISHED, spliceSockets, type TunnelTarget } from './relay-raw-tunnel.js';
import { startUpstreamTls } from './upstream/dial.js';
import { TunnelAgent } from './upstream/upstream-agents.js';

export interface InterceptTarget extends TunnelTarget {
  /** The endpoint has L7 rules: a tunnel that is neither TLS nor HTTP is refused, not relayed. */
  readonly requireL7: boolean;
}

/** TLS record type 22 (handshake): the first byte of every ClientHello (RFC 8446 §5.1). */
export const TLS_HANDSHAKE = 0x16;
/** An HTTP/1 request starts with a method token: upper-case letters. */
export const HTTP_METHOD_START = /^[A-Z]{3,16} /;

/** Resolves with the first bytes the client sends (null if it closes first). */
export function readFirstChunk(socket: Socket): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const done = (chunk: Buffer | null): void => {
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      resolve(chunk);
    };
    const onReadable = (): void => {
      const chunk = socket.read() as Buffer | null;
      if (chunk !== null) done(chunk);
    };
    const onEnd = (): void => done(null);
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}

/** Keeps an early upstream failure from crashing the process before a request owns the socket. */
function quiet<T extends Duplex>(socket: T): T {
  // The error resurfaces where it matters: TunnelAgent sees the socket destroyed and redials,
  // and that dial's error reaches the request as a 502.
  socket.on('error', () => socket.destroy());
  return socket;
}

/**
 * After an L4 allow that needs inspection: answer 200, dial the upstream at once (so its
 * TCP and TLS handshakes overlap the client's), then look at the first bytes. A TLS
 * ClientHello is terminated with a leaf for the CONNECT host; plain HTTP is parsed as is;
 * anything else is refused when L7 rules apply (they cannot be evaluated) and relayed
 * otherwise. Requests then flow through the inner HTTP server, one decision each.
 */
export function interceptTunnel(
  ctx: ProxyContext,
  client: Socket,
  head: Buffer,
  t: InterceptTarget,
): void {
  client.write(CONNECT_ESTABLISHED);
  const openTcp = (): Promise<Socket> => ctx.connectUpstream(t).then(quiet);
  const firstTcp = openTcp();
  // A failed first connection is replaced by a fresh one when a request needs it.
  firstTcp.catch(() => undefined);
  const destroyFirst = (): void => {
    firstTcp.then(
      (s) => s.destroy(),
      () => undefined,
    );
  };
  const leaf = ctx.leaves.contextFor(t.host);
  // Minting failures surface below when the leaf is awaited.
  leaf.catch(() => undefined);
  let agent: TunnelAgent | null = null;
  const closeAll = (): void => {
    client.destroy();
    destroyFirst();
    agent?.destroy();
  };
  const unregister = ctx.tunnels.add({ ...t, kind: 'intercepted', close: closeAll });
  client.once('close', () => {
    unregister();
    destroyFirst();
    agent?.destroy();
  });
  if (head.length > 0) client.unshift(head);

  const connectionFor = (
    tls: boolean,
    first: Promise<Duplex>,
    dialUpstream: () => Promise<Duplex>,
  ): InterceptedConnection => {
    agent = new TunnelAgent(first, dialUpstream);
    return {
      sandboxId: t.sandboxId,
      caller: t.caller,
      host: t.host,
      port: t.port,
      tls,
      sniMismatch: null,
      agent,
      dialUpstream,
    };
  };
  const serve = (socket: Duplex, conn: InterceptedConnection): void => {
    ctx.intercepted.set(socket, conn);
    ctx.innerServer.emit('connection', socket);
  };

  const onFirstChunk = async (chunk: Buffer | null): Promise<void> => {
    if (chunk === null) return closeAll();
    client.unshift(chunk);
    if (chunk[0] === TLS_HANDSHAKE) {
      const tlsOptions = { secureContext: ctx.upstreamSecureContext, host: t.host };
      const openTls = (tcp: Promise<Socket>): Promise<Duplex> =>
        tcp.then((socket) => quiet(startUpstreamTls(socket, tlsOptions)));
      const upstream = openTls(firstTcp);
      upstream.catch(() => undefined);
      let context: SecureContext;
      try {
        context = await leaf;
      } catch (error) {
        ctx.warn(`cannot mint a certificate for ${t.host}: ${String(error)}`);
        return closeAll();
      }
      if (client.destroyed) return closeAll();
      // Built before the TLSSocket: the buffered ClientHello may run SNICallback synchronously.
      const conn = connectionFor(true, upstream, () => openTls(openTcp()));
      const tlsSocket = new TLSSocket(client, {
        isServer: true,
        secureContext: context,
        ALPNProtocols: ['http/1.1'],
        SNICallback(servername, cb) {
          // The certificate is always for the CONNECT host; a different SNI means the client
          // wants another server than the one the policy allowed (domain fronting).
          if (normalizeHost(servername) !== t.host) conn.sniMismatch = servername;
          cb(null, context);
        },
      });
      tlsSocket.on('error', () => tlsSocket.destroy());
      tlsSocket.once('close', closeAll);
      return serve(tlsSocket, conn);
    }
    if (HTTP_METHOD_START.test(chunk.subarray(0, 18).toString('latin1'))) {
      return serve(client, connectionFor(false, firstTcp, openTcp));
    }
    if (t.requireL7) {
      ctx.recorder.record({
        sandboxId: t.sandboxId,
        policyVersion: ctx.registry.get(t.sandboxId)?.version ?? null,
        caller: t.caller,
        host: t.host,
        port: t.port,
        method: 'CONNECT',
        action: 'deny',
        outcome: 'policy_denied',
        layer: 'l7',
        reason:
          "tunnel carries neither TLS nor HTTP/1, so the endpoint's L7 rules cannot be evaluated",
      });
      return closeAll();
    }
    // Credentials are bound to this host but the protocol is opaque: nothing to rewrite, relay.
    let upstreamTcp: Socket;
    try {
      upstreamTcp = await firstTcp;
    } catch {
      return closeAll();
    }
    if (upstreamTcp.destroyed || client.destroyed) return closeAll();
    spliceSockets(client, upstreamTcp, ctx.limits.idleTimeoutMs);
    return undefined;
  };

  readFirstChunk(client)
    .then(onFirstChunk)
    .catch((error: unknown) => {
      ctx.warn(`intercepted tunnel to ${t.host}:${t.port} failed: ${String(error)}`);
      closeAll();
    });
}
