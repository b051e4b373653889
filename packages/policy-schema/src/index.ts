// Public surface of @openshell/policy-schema. Pure: no I/O, no side effects on import.
export type * from './types.js';
export { STATIC_SECTIONS, DYNAMIC_SECTIONS } from './types.js';
export {
  ERROR_CODES,
  GRPC_STATUS,
  isErrorCode,
  type ErrorCode,
  type ErrorCodeInfo,
} from './errors/catalogue.js';
export {
  OpenShellError,
  isOpenShellError,
  toOpenShellError,
  exitCodeOf,
  type OpenShellErrorOptions,
} from './errors/openshell-error.js';
