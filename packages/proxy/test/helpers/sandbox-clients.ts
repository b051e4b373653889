import { request as httpRequest, type RequestOptions } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readResponse, startTls, type Response } from './clients.js';

/**
 * A client socket to the proxy bound to `source`: the proxy identifies sandboxes by source
 * address, and every 127.0.0.0/8 address is local on Linux, so each test sandbox gets its own.
 */
async function dialFrom(proxyPort: number, source: string): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port: proxyPort, localAddress: source });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** `CONNECT authority` from `source`; resolves with the proxy's status and closes the tunnel. */
export async function connectStatus(
  proxyPort: number,
  source: string,
  authority: string,
): Promise<number> {
  const socket = await dialFrom(proxyPort, source);
  try {
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    return (await readResponse(socket)).status;
  } finally {
    socket.destroy();
  }
}

/** One absolute-form HTTP request (`GET http://host/path`) from `source` through the proxy. */
export function forwardFrom(
  proxyPort: number,
  source: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return sendRequest({
    host: '127.0.0.1',
    port: proxyPort,
    localAddress: source,
    method: 'GET',
    path: url,
    headers: { host: new URL(url).host, connection: 'close', ...headers },
  });
}

function sendRequest(options: RequestOptions, body = ''): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(options);
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers as Record<string, string>,
          body: text,
        }),
      );
    });
    req.end(body);
  });
}

/** POST `body` as JSON to https://inference.local`path` from `source`, trusting the proxy CA. */
export async function inferenceFrom(
  proxyPort: number,
  source: string,
  proxyCaPem: string,
  path: string,
  body: unknown,
): Promise<Response> {
  const socket = await dialFrom(proxyPort, source);
  socket.write('CONNECT inference.local:443 HTTP/1.1\r\nHost: inference.local:443\r\n\r\n');
  const connected = await readResponse(socket);
  if (connected.status !== 200) {
    socket.destroy();
    return connected;
  }
  const tls = await startTls(socket, 'inference.local', proxyCaPem);
  return sendRequest(
    {
      createConnection: () => tls,
      method: 'POST',
      path,
      headers: { host: 'inference.local', 'content-type': 'application/json', connection: 'close' },
    },
    JSON.stringify(body),
  ).finally(() => tls.destroy());
}
