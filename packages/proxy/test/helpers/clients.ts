import { execFile } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';

export interface ProcessResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a real program (argv array, no shell) and collects its output. */
export function run(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { env: { PATH: process.env['PATH'], ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
        resolve({ exitCode: code, stdout, stderr });
      },
    );
  });
}

/** curl through the proxy; `-w` appends the HTTP code after a newline. */
export function curl(
  proxyUrl: string,
  args: readonly string[],
  options: { bin?: string; caFile?: string } = {},
): Promise<ProcessResult & { code: number; body: string }> {
  const argv = [
    '-sS',
    '--max-time',
    '15',
    '-x',
    proxyUrl,
    '-w',
    '\n%{http_code}',
    ...(options.caFile ? ['--cacert', options.caFile] : []),
    ...args,
  ];
  return run(options.bin ?? '/usr/bin/curl', argv).then((r) => {
    const cut = r.stdout.lastIndexOf('\n');
    return { ...r, body: r.stdout.slice(0, cut), code: Number(r.stdout.slice(cut + 1)) };
  });
}

export interface Response {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Reads one HTTP/1.1 response (Content-Length framed, as every server in these tests sends) from a stream. */
export function readResponse(stream: Duplex): Promise<Response> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0]?.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (buf.length < end + 4 + length) return;
      cleanup();
      const rest = buf.subarray(end + 4 + length);
      if (rest.length > 0) stream.unshift(rest);
      resolve({ status, headers, body: buf.subarray(end + 4, end + 4 + length).toString('utf8') });
    };
    const onEnd = (): void => {
      cleanup();
      reject(
        new Error(
          `stream ended before a full response (${buf.length} bytes: ${buf.toString('latin1').slice(0, 200)})`,
        ),
      );
    };
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.pause();
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.resume();
  });
}

/** Sends `CONNECT authority` and returns the socket with the proxy's answer. */
export async function openTunnel(
  proxyPort: number,
  authority: string,
): Promise<{ socket: Socket; response: Response }> {
  const socket = connect({ host: '127.0.0.1', port: proxyPort });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  const response = await readResponse(socket);
  return { socket, response };
}

/** TLS over an established tunnel, trusting `ca`, with `servername` as SNI. */
export function startTls(socket: Socket, servername: string, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({ socket, servername, ca, ALPNProtocols: ['http/1.1'] }, () =>
      resolve(tls),
    );
    tls.once('error', reject);
  });
}

/** Writes one request on a kept-alive stream and reads the response. */
export function request(
  stream: Duplex,
  method: string,
  target: string,
  headers: Record<string, string>,
  body = '',
): Promise<Response> {
  const head = Object.entries({ ...headers, 'Content-Length': String(Buffer.byteLength(body)) })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  stream.write(`${method} ${target} HTTP/1.1\r\n${head}\r\n${body}`);
  return readResponse(stream);
}

/** Resolves when the stream closes (or after `ms`, with false). */
export function waitClosed(stream: Duplex, ms: number): Promise<boolean> {
  if (stream.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    stream.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    stream.resume();
  });
}

/** Everything a stream sends until it closes. */
export function readAll(stream: Duplex): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    stream.once('close', () => resolve(text));
    stream.resume();
  });
}

export interface TunnelRequest {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/**
 * One HTTPS request through `CONNECT host:443` on the proxy, verified against `ca`, parsed
 * by Node's HTTP client (chunked and streamed responses included). Resolves at the
 * response head; the body is still streaming.
 */
export async function requestViaTunnel(
  proxyPort: number,
  host: string,
  ca: string,
  r: TunnelRequest,
): Promise<IncomingMessage> {
  const { socket, response } = await openTunnel(proxyPort, `${host}:443`);
  if (response.status !== 200)
    throw new Error(`CONNECT ${host}:443 answered ${response.status}: ${response.body}`);
  const tls = await startTls(socket, host, ca);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      createConnection: () => tls,
      method: r.method,
      path: r.path,
      headers: { host, ...r.headers },
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end(r.body);
  });
}

/** Reads a whole response body as text. */
export function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (text += d));
    res.once('end', () => resolve(text));
    res.once('error', reject);
  });
}
