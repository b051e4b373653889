import {
  credentials,
  makeGenericClientConstructor,
  type ChannelCredentials,
  type Client,
  type ClientDuplexStream,
  type ClientOptions,
  type Metadata,
} from '@grpc/grpc-js';
import { SessionRequest, SessionResponse } from '@openshell/proto';

/**
 * The Supervisor protocol with the roles swapped, served by the agent on its control socket
 * (file mode): the client plays the gateway, sending SessionResponse commands (spec, policy
 * pushes, exec/connect/upload/download, inputs) and receiving SessionRequest events (hello
 * first, then acks, output, exits). Same messages as proto/openshell/v1/supervisor.proto, so
 * one session engine serves both modes; a different method path, so a real Supervisor client
 * pointed here fails with UNIMPLEMENTED instead of having its messages misread.
 */
export const SupervisorControlService = {
  session: {
    path: '/openshell.v1.SupervisorControl/Session' as const,
    requestStream: true as const,
    responseStream: true as const,
    requestSerialize: (value: SessionResponse): Buffer =>
      Buffer.from(SessionResponse.encode(value).finish()),
    requestDeserialize: (value: Buffer): SessionResponse => SessionResponse.decode(value),
    responseSerialize: (value: SessionRequest): Buffer =>
      Buffer.from(SessionRequest.encode(value).finish()),
    responseDeserialize: (value: Buffer): SessionRequest => SessionRequest.decode(value),
  },
} as const;

export interface SupervisorControlClient extends Client {
  session(metadata?: Metadata): ClientDuplexStream<SessionResponse, SessionRequest>;
}

/** Client for the control socket (`unix:/path/to/socket`), for tests, benchmarks and debugging. */
export const SupervisorControlClient = makeGenericClientConstructor(
  SupervisorControlService,
  'openshell.v1.SupervisorControl',
) as unknown as new (
  address: string,
  credentials: ChannelCredentials,
  options?: Partial<ClientOptions>,
) => SupervisorControlClient;

/**
 * Opens a client on an agent's control socket (a local unix socket, so no TLS).
 *
 * @example
 * const stream = createControlClient('/run/openshell/agent.sock').session();
 */
export function createControlClient(socketPath: string): SupervisorControlClient {
  return new SupervisorControlClient(`unix:${socketPath}`, credentials.createInsecure());
}
