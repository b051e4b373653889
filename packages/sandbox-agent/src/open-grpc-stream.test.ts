// openGrpcStream against a real grpc-js server on 127.0.0.1 (plaintext; TLS trust is covered by
// test/gateway-mode.test.ts): messages both ways, how a call ends, and the size limit.
import { createServer } from 'node:net';
import { Server, ServerCredentials, status, type ServerDuplexStream } from '@grpc/grpc-js';
import { SupervisorService, type SessionRequest, type SessionResponse } from '@openshell/proto';
import { afterEach, describe, expect, test } from 'vitest';
import { openGrpcStream, type GrpcStream, type GrpcStreamError } from './open-grpc-stream.js';

type Handler = (call: ServerDuplexStream<SessionRequest, SessionResponse>) => void;

const stops: Array<() => void> = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

async function serve(handler: Handler): Promise<number> {
  const server = new Server();
  server.addService(SupervisorService, { session: handler });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });
  stops.push(() => server.forceShutdown());
  return port;
}

function output(sessionId: string, size: number): SessionResponse {
  return {
    payload: {
      $case: 'sessionInput',
      value: { sessionId, input: { $case: 'data', value: Buffer.alloc(size, 7) } },
    },
  };
}

function open(
  port: number,
  maxMessageBytes = 1 << 20,
): GrpcStream<SessionRequest, SessionResponse> {
  return openGrpcStream({
    target: `127.0.0.1:${String(port)}`,
    ca: undefined,
    method: SupervisorService.session,
    metadata: { authorization: 'Bearer t0ken' },
    maxMessageBytes,
  });
}

interface Outcome {
  readonly messages: SessionResponse[];
  readonly ended: boolean;
  readonly error?: GrpcStreamError;
}

function collect(call: GrpcStream<SessionRequest, SessionResponse>): Promise<Outcome> {
  const messages: SessionResponse[] = [];
  return new Promise((resolve) => {
    call.on('data', (message) => messages.push(message));
    call.on('end', () => resolve({ messages, ended: true }));
    call.on('error', (error) => resolve({ messages, ended: false, error }));
  });
}

const hello: SessionRequest = {
  payload: {
    $case: 'hello',
    value: { sandboxId: 'sb-1', agentVersion: '0.1.0', probe: undefined },
  },
};

describe('openGrpcStream', () => {
  test('sends metadata and messages, receives messages split across frames, ends on OK', async () => {
    const seen: { auth: string; request?: SessionRequest } = { auth: '' };
    const port = await serve((call) => {
      seen.auth = String(call.metadata.get('authorization')[0] ?? '');
      call.on('data', (request: SessionRequest) => {
        seen.request = request;
        // 300 KiB spans many HTTP/2 DATA frames; the small one may share a frame with it.
        call.write(output('big', 300 * 1024));
        call.write(output('small', 3));
        call.end();
      });
    });
    const call = open(port);
    const outcome = collect(call);
    call.write(hello);
    const { messages, ended, error } = await outcome;
    expect(error).toBeUndefined();
    expect(ended).toBe(true);
    expect(seen.auth).toBe('Bearer t0ken');
    expect(seen.request).toEqual(hello);
    expect(
      messages.map((m) => m.payload?.$case === 'sessionInput' && m.payload.value.sessionId),
    ).toEqual(['big', 'small']);
    const big = messages[0]?.payload;
    expect(
      big?.$case === 'sessionInput' &&
        big.value.input?.$case === 'data' &&
        big.value.input.value.length,
    ).toBe(300 * 1024);
  });

  test('many small messages written at once (several per DATA frame) arrive whole and in order', async () => {
    const port = await serve((call) => {
      call.on('data', () => {
        for (let i = 0; i < 200; i++) call.write(output(`s${String(i)}`, i % 7));
        call.end();
      });
    });
    const call = open(port);
    const outcome = collect(call);
    call.write(hello);
    const { messages, ended } = await outcome;
    expect(ended).toBe(true);
    expect(
      messages.map((m) => (m.payload?.$case === 'sessionInput' ? m.payload.value.sessionId : '')),
    ).toEqual(Array.from({ length: 200 }, (_, i) => `s${String(i)}`));
  });

  test.for([
    { status: status.UNAUTHENTICATED, name: 'UNAUTHENTICATED' },
    { status: status.PERMISSION_DENIED, name: 'PERMISSION_DENIED' },
  ])('a call the server refuses ($name) ends in an error with its code', async (refusal) => {
    const port = await serve((call) => {
      call.emit('error', { code: refusal.status, details: 'refused here' });
    });
    const { ended, error } = await collect(open(port));
    expect(ended).toBe(false);
    expect(error?.code).toBe(refusal.status);
    expect(error?.message).toBe(`${String(refusal.status)} ${refusal.name}: refused here`);
  });

  test.for([
    { size: 64 * 1024 - 64, fits: true },
    { size: 64 * 1024 + 1, fits: false },
  ])('limit 64 KiB, a $size-byte message: delivered = $fits', async ({ size, fits }) => {
    const port = await serve((call) => {
      call.on('data', () => {
        call.write(output('x', size));
        call.end();
      });
      call.on('error', () => undefined);
    });
    const call = open(port, 64 * 1024);
    const outcome = collect(call);
    call.write(hello);
    const { messages, ended, error } = await outcome;
    // The encoded message is the payload plus a few bytes of field tags and lengths.
    expect(messages).toHaveLength(fits ? 1 : 0);
    expect(ended).toBe(fits);
    expect(error?.code).toBe(fits ? undefined : status.RESOURCE_EXHAUSTED);
  });

  test('an address nobody listens on fails fast as UNAVAILABLE', async () => {
    // A port that was free a moment ago: bind, note, close.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { ended, error } = await collect(open(port));
    expect(ended).toBe(false);
    expect(error?.code).toBe(status.UNAVAILABLE);
  });
});
