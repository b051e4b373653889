import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { CallerIdentity } from '../caller/caller-resolver.js';
import { HTTP_METHOD_START, TLS_HANDSHAKE, readFirstChunk } from '../intercept-tunnel.js';
import type { ProxyContext } from '../proxy-context.js';
import { CONNECT_ESTABLISHED } from '../relay-raw-tunnel.js';
import { INFERENCE_HOST } from './handle-inference.js';

export interface InferenceTunnel {
  readonly sandboxId: string;
  readonly caller: CallerIdentity | null;
  readonly port: number;
}

/**
 * A CONNECT to inference.local is answered by the proxy itself: nothing is dialled. TLS
 * is terminated with a leaf for inference.local from our CA (plain HTTP is parsed as is),
 * and every request inside goes to the inference server, one routing decision each.
 */
export function serveInferenceTunnel(
  ctx: ProxyContext,
  client: Socket,
  head: Buffer,
  t: InferenceTunnel,
): void {
  client.write(CONNECT_ESTABLISHED);
  const unregister = ctx.tunnels.add({
    sandboxId: t.sandboxId,
    host: INFERENCE_HOST,
    port: t.port,
    caller: t.caller,
    kind: 'inference',
    close: () => client.destroy(),
  });
  client.once('close', unregister);
  if (head.length > 0) client.unshift(head);
  const leaf = ctx.leaves.contextFor(INFERENCE_HOST);
  // Minting failures surface below when the leaf is awaited.
  leaf.catch(() => undefined);
  const meta = { sandboxId: t.sandboxId, caller: Promise.resolve(t.caller), port: t.port };

  const onFirstChunk = async (chunk: Buffer | null): Promise<void> => {
    if (chunk === null) {
      client.destroy();
      return;
    }
    client.unshift(chunk);
    if (chunk[0] === TLS_HANDSHAKE) {
      const context = await leaf;
      if (client.destroyed) return;
      const tls = new TLSSocket(client, {
        isServer: true,
        secureContext: context,
        ALPNProtocols: ['http/1.1'],
      });
      tls.on('error', () => tls.destroy());
      tls.once('close', () => client.destroy());
      ctx.inferenceClients.set(tls, meta);
      ctx.inferenceServer.emit('connection', tls);
      return;
    }
    if (HTTP_METHOD_START.test(chunk.subarray(0, 18).toString('latin1'))) {
      ctx.inferenceClients.set(client, meta);
      ctx.inferenceServer.emit('connection', client);
      return;
    }
    // Neither TLS nor HTTP/1: there is no inference API to speak to.
    client.destroy();
  };
  readFirstChunk(client)
    .then(onFirstChunk)
    .catch((error: unknown) => {
      ctx.warn(`inference tunnel failed: ${String(error)}`);
      client.destroy();
    });
}
