import { EventEmitter } from 'node:events';
import { connect, constants, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';

/** A gRPC method as the generated service definitions describe it. */
export interface GrpcMethod<Request, Response> {
  readonly path: string;
  readonly requestSerialize: (value: Request) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Response;
}

export interface GrpcStreamOptions<Request, Response> {
  /** `host:port`; an IPv4 address here is checked against the certificate's IP SANs. */
  readonly target: string;
  /** PEM of the only CA trusted for the peer's certificate; undefined = plaintext (h2c). */
  readonly ca: Buffer | undefined;
  readonly method: GrpcMethod<Request, Response>;
  /** Request metadata (lower-case header names), e.g. authorization. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Largest message accepted from the peer; a bigger one cancels the call. */
  readonly maxMessageBytes: number;
}

/**
 * One bidirectional gRPC call. Emits `data` per response message, then exactly one of `end`
 * (the peer finished with status OK) or `error` (anything else, with `code` = gRPC status).
 */
export interface GrpcStream<Request, Response> {
  write(message: Request): void;
  /** Half-closes: the peer sees the end of the request stream; responses keep arriving. */
  end(): void;
  /** Abandons the call and its connection at once. */
  cancel(): void;
  on(event: 'data', listener: (message: Response) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'error', listener: (error: GrpcStreamError) => void): this;
}

export interface GrpcStreamError extends Error {
  /** gRPC status code (2 UNKNOWN when the call broke without one, 14 UNAVAILABLE when unreachable). */
  readonly code: number;
}

const STATUS_CANCELLED = 1;
const STATUS_UNKNOWN = 2;
const STATUS_RESOURCE_EXHAUSTED = 8;
const STATUS_INTERNAL = 13;
const STATUS_UNAVAILABLE = 14;
/** gRPC length-prefixed message: 1 byte compressed flag, 4 bytes big-endian length. */
const FRAME_HEADER_BYTES = 5;

const STATUS_NAMES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** `14 UNAVAILABLE: detail`, the form grpc-js uses, so logs read the same as before. */
function toStreamError(detail: string, code: number): GrpcStreamError {
  const name = STATUS_NAMES[code] ?? 'UNKNOWN';
  return Object.assign(new Error(`${String(code)} ${name}: ${detail}`), { code });
}

/**
 * Opens one gRPC bidirectional call over its own HTTP/2 connection, with node:http2 alone.
 * Why not @grpc/grpc-js: the agent holds exactly one long-lived call to one fixed address;
 * grpc-js's channel machinery (resolvers, load balancing, subchannel pools, the server half)
 * cost the agent ~25 ms of CPU to load at every sandbox start and several MB resident, which
 * is on the path of sandbox create → first command. The wire format is small: HTTP/2 POST to
 * the method path, `content-type: application/grpc`, 5-byte-prefixed protobuf messages each
 * way, and the status in `grpc-status`/`grpc-message` trailers (or headers, for a call the
 * server refuses outright). Compression is never offered, so a compressed message is refused.
 *
 * @example
 * const call = openGrpcStream({ target: '10.200.0.1:17671', ca, method: SupervisorService.session, metadata: { authorization }, maxMessageBytes });
 */
export function openGrpcStream<Request, Response>(
  options: GrpcStreamOptions<Request, Response>,
): GrpcStream<Request, Response> {
  const { method, maxMessageBytes } = options;
  const events = new EventEmitter();
  // Certificate checking is node's tls default (rejectUnauthorized, host or IP SAN match);
  // `ca` replaces the bundled roots for this connection.
  const session =
    options.ca === undefined
      ? connect(`http://${options.target}`)
      : connect(`https://${options.target}`, { ca: options.ca });
  let settled = false;
  let status: { code: number; message: string } | undefined;

  function settle(error: GrpcStreamError | undefined): void {
    if (settled) return;
    settled = true;
    if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    session.close();
    if (error === undefined) events.emit('end');
    // EventEmitter throws an unheard 'error'; a caller without a listener has stopped caring.
    else if (events.listenerCount('error') > 0) events.emit('error', error);
  }
  function takeStatus(headers: IncomingHttpHeaders): void {
    const code = headers['grpc-status'];
    if (code === undefined) return;
    const raw = headers['grpc-message'];
    const text = typeof raw === 'string' ? decodeURIComponent(raw) : '';
    status = { code: Number(code), message: text };
  }

  session.on('error', (error: Error) =>
    settle(toStreamError(`gateway connection failed: ${error.message}`, STATUS_UNAVAILABLE)),
  );
  const stream: ClientHttp2Stream = session.request(
    {
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: method.path,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      te: 'trailers',
      ...options.metadata,
    },
    { endStream: false },
  );
  stream.on('response', (headers) => {
    // Typed as a header string, delivered by node as a number.
    const httpStatus = Number(headers[constants.HTTP2_HEADER_STATUS]);
    if (httpStatus !== 200) {
      settle(toStreamError(`gateway answered HTTP ${String(httpStatus)}`, STATUS_UNKNOWN));
      return;
    }
    takeStatus(headers); // A trailers-only response (the call refused before any message).
  });
  stream.on('trailers', takeStatus);
  // Chunks are joined only once a header or a whole message is in, so a large message that
  // arrives in many small DATA frames is copied about twice, not once per frame.
  let chunks: Buffer[] = [];
  let buffered = 0;
  let needed = FRAME_HEADER_BYTES;
  let messageLength: number | undefined;
  stream.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    buffered += chunk.length;
    while (!settled && buffered >= needed) {
      const all = chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(chunks);
      chunks = [all];
      if (messageLength === undefined) {
        if (all[0] !== 0) {
          settle(toStreamError('gateway sent a compressed message', STATUS_INTERNAL));
          return;
        }
        messageLength = all.readUInt32BE(1);
        if (messageLength > maxMessageBytes) {
          settle(
            toStreamError(
              `gateway message of ${String(messageLength)} bytes exceeds ${String(maxMessageBytes)}`,
              STATUS_RESOURCE_EXHAUSTED,
            ),
          );
          return;
        }
        needed = FRAME_HEADER_BYTES + messageLength;
        continue;
      }
      const body = all.subarray(FRAME_HEADER_BYTES, needed);
      const rest = all.subarray(needed);
      chunks = rest.length === 0 ? [] : [rest];
      buffered = rest.length;
      needed = FRAME_HEADER_BYTES;
      messageLength = undefined;
      let message: Response;
      try {
        message = method.responseDeserialize(body);
      } catch (cause) {
        settle(toStreamError(`undecodable gateway message: ${String(cause)}`, STATUS_INTERNAL));
        return;
      }
      events.emit('data', message);
    }
  });

  // The peer's end of the call (trailers, or a trailers-only refusal) ends the call even while
  // our half is open: node fires 'close' only once both halves are closed. A stream error is
  // followed by close, which settles with whatever status was seen.
  function settleFromStatus(): void {
    if (status === undefined) {
      settle(toStreamError('gateway closed the call without a status', STATUS_UNKNOWN));
    } else if (status.code === 0) {
      settle(undefined);
    } else {
      settle(toStreamError(status.message, status.code));
    }
  }
  stream.on('end', settleFromStatus);
  stream.on('error', (error: Error) => {
    status ??= { code: STATUS_UNAVAILABLE, message: error.message };
  });
  stream.on('close', settleFromStatus);

  const call: GrpcStream<Request, Response> = {
    write(message) {
      if (settled || stream.closed || stream.writableEnded) return;
      const body = method.requestSerialize(message);
      const header = Buffer.alloc(FRAME_HEADER_BYTES);
      header.writeUInt32BE(body.length, 1);
      stream.write(Buffer.concat([header, body]));
    },
    end() {
      if (!stream.closed && !stream.writableEnded) stream.end();
    },
    cancel() {
      settle(toStreamError('cancelled by the agent', STATUS_CANCELLED));
    },
    on(event: 'data' | 'end' | 'error', listener: (...args: never[]) => void) {
      // The overloads above fix each event's argument; EventEmitter itself is untyped.
      events.on(event, listener as (...args: unknown[]) => void);
      return call;
    },
  };
  return call;
}
