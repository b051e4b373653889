import { Metadata, type StatusObject } from '@grpc/grpc-js';
import { ERROR_CODES, type ErrorCode } from '@openshell/policy-schema';

/** An RPC failure exactly as the gateway sends it (gateway-wire.md "Errors on the wire"). */
export function wireError(code: ErrorCode, message: string): Partial<StatusObject> {
  const metadata = new Metadata();
  metadata.set('openshell-code', code);
  return { code: ERROR_CODES[code].grpc, details: message, metadata };
}
