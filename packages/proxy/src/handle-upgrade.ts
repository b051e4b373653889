import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { badRequest, toRawResponse, upstreamFailed } from './http/denial-bodies.js';
import { evaluateRequest } from './evaluate-request.js';
import type { ProxyContext } from './proxy-context.js';
import { spliceSockets } from './relay-raw-tunnel.js';

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_RESPONSE_HEAD = 64 * 1024;
// Header values may come from a secret after placeholder substitution: never let one split the head.
const UNSAFE = /[\r\n\0]/;

function serializeHead(method: string, target: string, headers: readonly string[]): string | null {
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] ?? '';
    const value = headers[i + 1] ?? '';
    if (UNSAFE.test(name) || UNSAFE.test(value)) return null;
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

/**
 * Reads the upstream's response head. Only a `101 Switching Protocols` turns the
 * connection into a raw two-way relay; any other answer is passed to the client one-way
 * and the connection closed, so a refused upgrade cannot leave an unparsed channel open
 * through which later requests would escape L7 evaluation.
 */
function relayAfterHandshake(client: Socket, upstream: Socket, idleTimeoutMs: number): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf(HEAD_END);
    if (end === -1) {
      if (buffered.length > MAX_RESPONSE_HEAD) upstream.destroy();
      return;
    }
    upstream.off('data', onData);
    upstream.pause();
    const switching = /^HTTP\/1\.[01] 101[ \r]/.test(buffered.subarray(0, 16).toString('latin1'));
    client.write(buffered);
    if (switching) {
      spliceSockets(client, upstream, idleTimeoutMs);
      upstream.resume();
      return;
    }
    client.pause();
    upstream.pipe(client);
    upstream.resume();
  };
  upstream.on('data', onData);
  upstream.once('close', () => client.destroy());
  upstream.on('error', () => client.destroy());
  // Sockets through an upstream proxy arrive paused; adding a 'data' listener alone would not start them.
  upstream.resume();
}

/** WebSocket (and other Upgrade) requests: decided like any request, then relayed raw after 101. */
export function handleUpgrade(
  ctx: ProxyContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  serveUpgrade(ctx, req, socket as Socket, head).catch((error: unknown) => {
    ctx.warn(`upgrade ${req.method ?? ''} failed internally: ${String(error)}`);
    socket.destroy();
  });
}

async function serveUpgrade(
  ctx: ProxyContext,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
): Promise<void> {
  socket.on('error', () => socket.destroy());
  socket.setNoDelay(true);
  const evaluation = await evaluateRequest(ctx, req, true);
  if (!evaluation.ok) {
    socket.end(toRawResponse(evaluation.response));
    return;
  }
  const plan = evaluation.plan;
  const requestHead = serializeHead(plan.method, plan.target, plan.headers);
  if (requestHead === null) {
    socket.end(toRawResponse(badRequest('a header value contains CR, LF or NUL')));
    return;
  }
  let upstream: Socket;
  try {
    upstream =
      plan.upstream.kind === 'tunnel'
        ? ((await plan.upstream.conn.dialUpstream()) as Socket)
        : await ctx.connectUpstream({
            host: plan.host,
            port: plan.port,
            targets: plan.upstream.targets,
          });
  } catch (error) {
    ctx.metrics.inc('openshell_proxy_upstream_errors_total');
    socket.end(
      toRawResponse(upstreamFailed(`upstream ${plan.host}:${plan.port}: ${String(error)}`)),
    );
    return;
  }
  if (socket.destroyed) {
    upstream.destroy();
    return;
  }
  upstream.write(requestHead);
  if (head.length > 0) upstream.write(head);
  relayAfterHandshake(socket, upstream, ctx.limits.idleTimeoutMs);
}
