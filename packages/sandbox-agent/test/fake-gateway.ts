// A minimal gateway side of the Supervisor service on 127.0.0.1, for gateway-mode tests:
// checks the bearer token, records what the agent sends, and lets the test push commands.
import { Server, ServerCredentials, status, type ServerDuplexStream } from '@grpc/grpc-js';
import { SupervisorService, type SessionRequest, type SessionResponse } from '@openshell/proto';

export interface FakeGateway {
  readonly port: number;
  readonly received: SessionRequest[];
  /** Authorization headers seen, in order (accepted or not). */
  readonly authorizations: string[];
  send(command: SessionResponse['payload']): void;
  waitFor(match: (event: SessionRequest) => boolean, timeoutMs?: number): Promise<SessionRequest>;
  stop(): void;
}

export interface FakeGatewayOptions {
  readonly port?: number;
  readonly token: string;
  /** Called with each hello; returns the commands to answer with. */
  readonly onHello: (hello: SessionRequest) => Array<SessionResponse['payload']>;
  /** Serve TLS with this certificate instead of plaintext. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

export async function startFakeGateway(options: FakeGatewayOptions): Promise<FakeGateway> {
  const received: SessionRequest[] = [];
  const authorizations: string[] = [];
  const waiters = new Set<() => void>();
  let current: ServerDuplexStream<SessionRequest, SessionResponse> | undefined;
  const server = new Server();
  server.addService(SupervisorService, {
    session(call: ServerDuplexStream<SessionRequest, SessionResponse>) {
      const auth = String(call.metadata.get('authorization')[0] ?? '');
      authorizations.push(auth);
      if (auth !== `Bearer ${options.token}`) {
        call.emit('error', { code: status.UNAUTHENTICATED, details: 'bad sandbox token' });
        return;
      }
      current = call;
      call.on('data', (event: SessionRequest) => {
        received.push(event);
        if (event.payload?.$case === 'hello') {
          for (const command of options.onHello(event)) call.write({ payload: command });
        }
        for (const wake of waiters) wake();
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  });
  const serverCredentials =
    options.tls === undefined
      ? ServerCredentials.createInsecure()
      : ServerCredentials.createSsl(
          null,
          [{ cert_chain: options.tls.cert, private_key: options.tls.key }],
          false,
        );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, serverCredentials, (error, bound) => {
      if (error === null) resolve(bound);
      else reject(error);
    });
  });
  return {
    port,
    received,
    authorizations,
    send(command) {
      if (current === undefined) throw new Error('no agent connected');
      current.write({ payload: command });
    },
    waitFor(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = received.find(match);
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `timed out; received ${JSON.stringify(received.map((e) => e.payload?.$case))}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop() {
      server.forceShutdown();
    },
  };
}
