import { connect, isIP, type Socket } from 'node:net';
import { OpenShellError } from '@openshell/policy-schema';
import { formatAuthority } from '../http/request-target.js';
import type { DialTarget } from '../ssrf/resolve-destination.js';
import { dialTargets, type Dialer } from './dial.js';

/** Where an admitted connection goes, after the decision and the destination checks. */
export interface UpstreamDestination {
  /** The name the sandbox asked for (sent to an upstream proxy, which resolves it). */
  readonly host: string;
  readonly port: number;
  /** Validated addresses; empty when an upstream proxy resolves the name. */
  readonly targets: readonly DialTarget[];
}

/**
 * Opens a TCP stream that carries bytes to `destination` (directly or through a proxy).
 * The socket may arrive paused (bytes already read are unshifted): consumers pipe it or
 * resume it once their own listeners are attached.
 */
export type UpstreamConnector = (destination: UpstreamDestination) => Promise<Socket>;

/** An operator's HTTP proxy that every admitted connection is chained through. */
export interface UpstreamProxy {
  readonly host: string;
  readonly port: number;
  /** `Proxy-Authorization` value from the URL's userinfo (Basic). Never logged. */
  readonly authorization?: string;
}

/** Parses `http://[user:pass@]host:port`; throws ERR_USAGE with an example otherwise. */
export function parseUpstreamProxyUrl(text: string): UpstreamProxy {
  const usage = (why: string): OpenShellError =>
    new OpenShellError(
      'ERR_USAGE',
      `--upstream-proxy ${JSON.stringify(text.replace(/\/\/[^@/]*@/, '//***@'))}: ${why}; write http://HOST:PORT, e.g. http://10.0.0.1:3128`,
    );
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage('not a URL');
  }
  // Only plain HTTP to the proxy: CONNECT carries TLS end to end anyway.
  if (url.protocol !== 'http:') throw usage(`scheme ${url.protocol} is not supported`);
  if (url.port === '') throw usage('the port is missing');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    throw usage('a proxy URL has no path, query or fragment');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  return {
    host,
    port: Number(url.port),
    ...(user || password
      ? { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }
      : {}),
  };
}

/** Connects straight to the validated addresses (the default). */
export function createDirectConnector(dial: Dialer, timeoutMs: number): UpstreamConnector {
  return (destination) => dialTargets(dial, destination.targets, timeoutMs);
}

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_RESPONSE_HEAD = 16 * 1024;

/** Error for a CONNECT the upstream proxy did not accept (its status line, never its body). */
export class UpstreamProxyRefusal extends Error {
  constructor(
    readonly authority: string,
    readonly statusLine: string,
  ) {
    super(`upstream proxy refused CONNECT ${authority} (${statusLine})`);
  }
}

function openProxySocket(proxy: UpstreamProxy, dial: Dialer): Socket {
  const family = isIP(proxy.host);
  // The proxy address is operator configuration, so a name is looked up normally here.
  const socket =
    family === 0
      ? connect({ host: proxy.host, port: proxy.port, allowHalfOpen: true })
      : dial({ address: proxy.host, port: proxy.port, family: family === 6 ? 6 : 4 });
  socket.setNoDelay(true);
  return socket;
}

/**
 * Chains through an upstream HTTP proxy with CONNECT by name: the upstream resolves and
 * connects. Anything but a 2xx answer fails the connection (fail closed), so a refusal
 * upstream can never turn into an unfiltered or half-open tunnel. Destinations with an
 * operator resolve override (non-empty `targets`) are dialled directly: the operator named
 * the address, and it is usually one the upstream proxy cannot reach.
 */
export function createChainedConnector(
  proxy: UpstreamProxy,
  dial: Dialer,
  timeoutMs: number,
): UpstreamConnector {
  return (destination) => {
    if (destination.targets.length > 0) return dialTargets(dial, destination.targets, timeoutMs);
    const authority = formatAuthority(destination.host, destination.port);
    return new Promise<Socket>((resolve, reject) => {
      const socket = openProxySocket(proxy, dial);
      let buffered = Buffer.alloc(0);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new Error(`upstream proxy did not answer CONNECT ${authority} in time`)),
        timeoutMs,
      );
      const onData = (chunk: Buffer): void => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf(HEAD_END);
        if (end === -1) {
          if (buffered.length > MAX_RESPONSE_HEAD)
            fail(new Error('upstream proxy sent an oversized CONNECT answer'));
          return;
        }
        const statusLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
        if (!/^HTTP\/1\.[01] 2\d\d(?: |$)/.test(statusLine)) {
          fail(new UpstreamProxyRefusal(authority, statusLine.slice(0, 120)));
          return;
        }
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', fail);
        socket.off('close', onClose);
        socket.pause();
        const rest = buffered.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        resolve(socket);
      };
      const onClose = (): void =>
        fail(new Error(`upstream proxy closed the connection during CONNECT ${authority}`));
      socket.on('data', onData);
      socket.once('error', fail);
      socket.once('close', onClose);
      socket.once('connect', () => {
        const auth = proxy.authorization ? `Proxy-Authorization: ${proxy.authorization}\r\n` : '';
        socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
      });
    });
  };
}
