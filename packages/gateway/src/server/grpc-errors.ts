import { Metadata, status, type sendUnaryData, type ServerErrorResponse } from '@grpc/grpc-js';
import { isOpenShellError, toOpenShellError } from '@openshell/policy-schema';

/** Trailing-metadata key carrying the OpenShellError code (helper-notes: gateway-wire). */
export const ERROR_CODE_KEY = 'openshell-code';

/**
 * An OpenShellError as a gRPC error: the catalogue's status, the user-facing message as
 * details, and the code in trailing metadata so clients branch on the code, not the text.
 * Anything that is not an OpenShellError is a bug: INTERNAL, with the message logged by the
 * caller and a generic text on the wire (no stack or path leaks to clients).
 */
export function toServiceError(error: unknown): ServerErrorResponse {
  const known = toOpenShellError(error);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, known.code);
  const details = isOpenShellError(error)
    ? known.message
    : `internal gateway error (${known.message}); see \`openshell gateway logs\``;
  return Object.assign(new Error(details), {
    code: isOpenShellError(error) ? known.info.grpc : status.INTERNAL,
    details,
    metadata,
  });
}

/** Wraps an async unary handler so every rejection becomes a catalogued gRPC error. */
export function unary<Req, Res>(
  handler: (request: Req) => Promise<Res>,
  onInternal: (error: unknown) => void,
): (call: { request: Req }, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    handler(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => {
        if (!isOpenShellError(error)) onInternal(error);
        callback(toServiceError(error));
      },
    );
  };
}
