import type { CallOptions, ClientUnaryCall, Metadata, ServiceError } from '@grpc/grpc-js';
import { Metadata as GrpcMetadata } from '@grpc/grpc-js';
import { fromGrpcError } from './grpc-error.js';

/** The callback form every generated unary client method has (metadata + options overload). */
export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

export interface CallUnaryOptions {
  /** Fail with ERR_WAIT_TIMEOUT when the gateway has not answered within this many ms. */
  readonly deadlineMs?: number;
}

/**
 * Calls one unary RPC and resolves with its response; a failure becomes the OpenShellError the
 * gateway raised (gateway-wire.md). Pass the method bound to its client, because grpc-js
 * methods read `this`.
 *
 * @example
 * const { sandboxes } = await callUnary(conn.client.listSandboxes.bind(conn.client), { labelSelector: {} });
 */
export function callUnary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: CallUnaryOptions = {},
): Promise<Res> {
  const callOptions: Partial<CallOptions> =
    options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  return new Promise<Res>((resolve, reject) => {
    method(request, new GrpcMetadata(), callOptions, function onUnaryDone(error, response) {
      if (error !== null) reject(fromGrpcError(error));
      else resolve(response);
    });
  });
}
