import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { WebSocketServer } from 'ws';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A self-signed certificate for the real-looking names tests route to loopback servers. */
export interface TestCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

function pem(der: ArrayBuffer, label: string): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;
}

/** Creates a self-signed EC certificate valid for `names` (DNS names or IPv4 literals; it is also its own trust anchor). */
export async function createTestCertificate(names: readonly string[]): Promise<TestCertificate> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=test-upstream',
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectAlternativeNameExtension(
        names.map((value) => ({
          type: /^\d+\.\d+\.\d+\.\d+$/.test(value) ? ('ip' as const) : ('dns' as const),
          value,
        })),
      ),
    ],
  });
  return {
    certPem: cert.toString('pem'),
    keyPem: pem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
  };
}

/** What an upstream saw. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface Upstream {
  readonly port: number;
  readonly seen: SeenRequest[];
  readonly server: Server;
  close(): Promise<void>;
}

function echo(seen: SeenRequest[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(record);
      const body = JSON.stringify(record);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  };
}

async function listen(server: Server, seen: SeenRequest[]): Promise<Upstream> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** HTTPS echo server on 127.0.0.1:0 presenting `cert`; answers every request with a JSON echo. */
export function startHttpsUpstream(cert: TestCertificate): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  return listen(createHttpsServer({ key: cert.keyPem, cert: cert.certPem }, echo(seen)), seen);
}

/** Plain HTTP echo server on 127.0.0.1:0. */
export function startHttpUpstream(): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  return listen(createHttpServer(echo(seen)), seen);
}

/** Attaches a WebSocket echo endpoint (`echo:<text>`) to an upstream's server. */
export function attachWebSocketEcho(upstream: Upstream): WebSocketServer {
  const wss = new WebSocketServer({ server: upstream.server });
  wss.on('connection', (ws) =>
    ws.on('message', (data: Buffer) => ws.send(`echo:${data.toString()}`)),
  );
  return wss;
}

/**
 * Raw TCP server that answers only after the client half-closes: it replies
 * `got:<everything received>` and then ends. Proves FIN is carried through a tunnel.
 */
export async function startHalfCloseServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    socket.on('end', () => socket.end(`got:${received}`));
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
