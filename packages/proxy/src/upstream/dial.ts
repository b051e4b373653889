import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import type { DialTarget } from '../ssrf/resolve-destination.js';

/** Opens a TCP connection to an already-validated address; injectable for tests. */
export type Dialer = (target: DialTarget) => Socket;

/**
 * The default dialer: a plain TCP connection, half-open allowed so a client's FIN passes
 * through. No Nagle from the start (the option, not a later setNoDelay call: one less step
 * on the path to a CONNECT's 200).
 */
export const dialTcp: Dialer = (target) =>
  connect({
    host: target.address,
    port: target.port,
    family: target.family,
    allowHalfOpen: true,
    noDelay: true,
  });

/**
 * Connects to the first target that accepts, trying the next only when one fails before
 * connecting. Only validated addresses are dialled: there is no name lookup here.
 */
export function dialTargets(
  dial: Dialer,
  targets: readonly DialTarget[],
  timeoutMs: number,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let index = 0;
    let lastError: unknown = new Error('no address to dial');
    const attempt = (): void => {
      const target = targets[index++];
      if (!target) {
        reject(lastError instanceof Error ? lastError : new Error(String(lastError)));
        return;
      }
      const socket = dial(target);
      // Nagle's algorithm adds ~40 ms to small request/response exchanges (DESIGN §4).
      socket.setNoDelay(true);
      const timer = setTimeout(
        () => socket.destroy(new Error(`connect to ${target.address}:${target.port} timed out`)),
        timeoutMs,
      );
      const onError = (error: Error): void => {
        clearTimeout(timer);
        lastError = error;
        socket.destroy();
        attempt();
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(socket);
      });
    };
    attempt();
  });
}

export interface UpstreamTlsOptions {
  /** System roots plus the operator's extra CA, built once. */
  readonly secureContext: SecureContext;
  /** The name the certificate must carry: the CONNECT host (never the client's SNI). */
  readonly host: string;
}

/**
 * Starts TLS to the upstream over an established TCP socket, verifying the certificate
 * against `host`. SNI is sent only for names (RFC 6066 forbids IP literals in SNI).
 * Only HTTP/1.1 is offered, since the proxy parses HTTP/1.1 on both sides.
 */
export function startUpstreamTls(tcp: Socket, options: UpstreamTlsOptions): TLSSocket {
  const socket = tlsConnect({
    socket: tcp,
    secureContext: options.secureContext,
    host: options.host,
    ...(isIP(options.host) ? {} : { servername: options.host }),
    ALPNProtocols: ['http/1.1'],
    rejectUnauthorized: true,
  });
  return socket;
}

/** Resolves once the TLS handshake completed (certificate verified), rejects on any failure. */
export function waitSecure(socket: TLSSocket): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
