import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** A tiny CONNECT-only proxy standing in for an operator's upstream proxy. */
export interface TestConnectProxy {
  readonly port: number;
  /** Every CONNECT authority received, in order. */
  readonly seen: string[];
  /** The Proxy-Authorization header of each CONNECT ('' when absent). */
  readonly authorizations: string[];
  close(): Promise<void>;
}

/**
 * Starts it on 127.0.0.1:0. It "resolves" names itself through `routes`
 * (authority → loopback port) and answers 403 for any authority it does not know,
 * like a corporate proxy with its own allowlist.
 */
export async function startTestConnectProxy(
  routes: Readonly<Record<string, number>>,
): Promise<TestConnectProxy> {
  const seen: string[] = [];
  const authorizations: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      client.off('data', onData);
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const authority = /^CONNECT (\S+) HTTP\/1\.1$/.exec(lines[0] ?? '')?.[1] ?? '';
      seen.push(authority);
      authorizations.push(
        lines.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]*:\s*/, '') ?? '',
      );
      const port = routes[authority];
      if (port === undefined) {
        client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const upstream = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        const rest = head.subarray(end + 4);
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
