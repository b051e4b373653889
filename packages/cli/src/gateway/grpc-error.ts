import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { OpenShellError, isErrorCode, isOpenShellError } from '@openshell/policy-schema';

/** Trailing-metadata key carrying the OpenShellError code (gateway-wire.md "Errors on the wire"). */
export const OPENSHELL_CODE_METADATA = 'openshell-code';

const UNAVAILABLE_HINT =
  "Start it with 'openshell gateway start', or see why it stopped with 'openshell gateway logs'.";

function isServiceError(value: unknown): value is ServiceError {
  return (
    value instanceof Error &&
    typeof (value as Partial<ServiceError>).code === 'number' &&
    (value as Partial<ServiceError>).metadata instanceof Metadata
  );
}

/**
 * Maps a grpc-js error back to the OpenShellError the gateway raised: the code comes from the
 * `openshell-code` trailer, never from the message text. Without that trailer the failure
 * came from grpc itself (connection refused, TLS, deadline), so it is reported as the gateway
 * being unavailable, with what to do about it.
 */
export function fromGrpcError(err: unknown, endpoint?: string): OpenShellError {
  if (isOpenShellError(err)) return err;
  if (!isServiceError(err)) {
    return new OpenShellError('ERR_INTERNAL', `gateway call failed: ${String(err)}`, {
      cause: err,
    });
  }
  const code = err.metadata.get(OPENSHELL_CODE_METADATA)[0];
  const details = err.details === '' ? err.message : err.details;
  if (isErrorCode(code)) return new OpenShellError(code, details, { cause: err });
  const where = endpoint === undefined ? 'the gateway' : `the gateway at ${endpoint}`;
  const unavailable = (): OpenShellError =>
    new OpenShellError(
      'ERR_GATEWAY_UNAVAILABLE',
      `cannot reach ${where}: ${details}. ${UNAVAILABLE_HINT}`,
      { cause: err },
    );
  // grpc-js's own failures: only these say something the user can act on.
  const byStatus: Partial<Record<status, () => OpenShellError>> = {
    [status.UNAUTHENTICATED]: () =>
      new OpenShellError(
        'ERR_UNAUTHENTICATED',
        `${where} refused this client's certificate (${details}). Re-copy the credentials with 'openshell gateway start'.`,
        { cause: err },
      ),
    [status.DEADLINE_EXCEEDED]: () =>
      new OpenShellError('ERR_WAIT_TIMEOUT', `${where} did not answer in time (${details})`, {
        cause: err,
      }),
    [status.UNIMPLEMENTED]: () =>
      new OpenShellError(
        'ERR_NOT_IMPLEMENTED',
        `${where} does not implement this call (${details}); upgrade the gateway`,
        { cause: err },
      ),
    [status.UNAVAILABLE]: unavailable,
    [status.CANCELLED]: unavailable,
  };
  return (
    byStatus[err.code]?.() ??
    new OpenShellError(
      'ERR_INTERNAL',
      `${where} failed without an error code (grpc status ${err.code}: ${details})`,
      { cause: err },
    )
  );
}
