/**
 * The one table that maps every error code to its gRPC status, HTTP status and CLI exit
 * code. The gateway, proxy and CLI all read it; nobody maps codes by hand elsewhere.
 *
 * gRPC status numbers are from grpc/doc/statuscodes.md (kept numeric so this package
 * needs no gRPC dependency). CLI exit codes follow REFERENCE.md: 1 operation failed,
 * 2 usage or invalid input, 3 denied by policy, 124 wait timed out.
 */

/** gRPC canonical status codes used by the catalogue. */
export const GRPC_STATUS = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export interface ErrorCodeInfo {
  /** true = the caller can fix it (bad input, missing thing); false = our fault or the host's. */
  readonly userCaused: boolean;
  readonly grpc: (typeof GRPC_STATUS)[keyof typeof GRPC_STATUS];
  readonly http: number;
  readonly exit: number;
}

const G = GRPC_STATUS;

export const ERROR_CODES = {
  /** Command-line usage is wrong: unknown flag, missing argument, conflicting flags. */
  ERR_USAGE: { userCaused: true, grpc: G.INVALID_ARGUMENT, http: 400, exit: 2 },
  /** An input file could not be read (missing, unreadable, a directory). */
  ERR_INPUT_UNREADABLE: { userCaused: true, grpc: G.INVALID_ARGUMENT, http: 400, exit: 2 },
  /** A policy failed validation; details carry the diagnostics. */
  ERR_POLICY_INVALID: { userCaused: true, grpc: G.INVALID_ARGUMENT, http: 400, exit: 2 },
  /** A static section (filesystem_policy, landlock, process) changed on a live sandbox. */
  ERR_POLICY_STATIC_CHANGE: { userCaused: true, grpc: G.INVALID_ARGUMENT, http: 400, exit: 2 },
  /** A request was evaluated and denied by policy (policy check, proxy L4/L7 deny). */
  ERR_POLICY_DENIED: { userCaused: true, grpc: G.PERMISSION_DENIED, http: 403, exit: 3 },
  /** The proxy refused a destination that resolves to an internal address. */
  ERR_SSRF_DENIED: { userCaused: true, grpc: G.PERMISSION_DENIED, http: 403, exit: 3 },
  /** A credential placeholder was sent to an endpoint its provider is not bound to. */
  ERR_CREDENTIAL_ENDPOINT_MISMATCH: {
    userCaused: true,
    grpc: G.PERMISSION_DENIED,
    http: 403,
    exit: 3,
  },
  /** The Host header or TLS SNI does not match the CONNECT target. */
  ERR_REQUEST_AUTHORITY_MISMATCH: {
    userCaused: true,
    grpc: G.PERMISSION_DENIED,
    http: 403,
    exit: 3,
  },
  /** A credential placeholder's real value is not known to the proxy yet (e.g. after a restart, before the gateway pushes bindings). */
  ERR_CREDENTIAL_UNAVAILABLE: { userCaused: false, grpc: G.UNAVAILABLE, http: 503, exit: 1 },
  /** The proxy could not parse a request (malformed, `https://` in forward form). */
  ERR_PROXY_BAD_REQUEST: { userCaused: true, grpc: G.INVALID_ARGUMENT, http: 400, exit: 2 },
  /** Too many concurrent tunnels for one sandbox. */
  ERR_PROXY_TUNNEL_LIMIT: { userCaused: false, grpc: G.RESOURCE_EXHAUSTED, http: 503, exit: 1 },
  /** The upstream could not be reached or failed TLS verification. */
  ERR_UPSTREAM_FAILED: { userCaused: false, grpc: G.UNAVAILABLE, http: 502, exit: 1 },
  /** No sandbox with that name or id. */
  ERR_SANDBOX_NOT_FOUND: { userCaused: true, grpc: G.NOT_FOUND, http: 404, exit: 1 },
  /** A sandbox with that name already exists. */
  ERR_SANDBOX_EXISTS: { userCaused: true, grpc: G.ALREADY_EXISTS, http: 409, exit: 1 },
  /** The sandbox is not in a phase that allows the operation (e.g. exec while Provisioning). */
  ERR_SANDBOX_NOT_READY: { userCaused: true, grpc: G.FAILED_PRECONDITION, http: 409, exit: 1 },
  /** No provider with that name. */
  ERR_PROVIDER_NOT_FOUND: { userCaused: true, grpc: G.NOT_FOUND, http: 404, exit: 1 },
  /** A provider with that name already exists. */
  ERR_PROVIDER_EXISTS: { userCaused: true, grpc: G.ALREADY_EXISTS, http: 409, exit: 1 },
  /** No inference route with that name, or none compatible with the request. */
  ERR_INFERENCE_ROUTE_NOT_FOUND: { userCaused: true, grpc: G.NOT_FOUND, http: 400, exit: 1 },
  /** A compare-and-swap on a resource version lost a race; retry. */
  ERR_CONFLICT: { userCaused: false, grpc: G.ABORTED, http: 409, exit: 1 },
  /** The gateway could not be reached. */
  ERR_GATEWAY_UNAVAILABLE: { userCaused: false, grpc: G.UNAVAILABLE, http: 503, exit: 1 },
  /** The client certificate or sandbox token was missing or wrong. */
  ERR_UNAUTHENTICATED: { userCaused: true, grpc: G.UNAUTHENTICATED, http: 401, exit: 1 },
  /** A `--wait` or deadline expired before the operation finished. */
  ERR_WAIT_TIMEOUT: { userCaused: false, grpc: G.DEADLINE_EXCEEDED, http: 504, exit: 124 },
  /** The host lacks a kernel feature or tool the policy requires (Landlock, bwrap, nftables). */
  ERR_HOST_UNSUPPORTED: { userCaused: false, grpc: G.FAILED_PRECONDITION, http: 412, exit: 1 },
  /** A compute driver could not create, inspect or delete a sandbox on the host; details.stage says where. */
  ERR_COMPUTE_DRIVER_FAILED: { userCaused: false, grpc: G.INTERNAL, http: 500, exit: 1 },
  /** The native launcher failed to apply enforcement; the process was not started. */
  ERR_ENFORCER_FAILED: { userCaused: false, grpc: G.INTERNAL, http: 500, exit: 1 },
  /** No exec/connect/transfer session with that id in the sandbox (it ended, or never started). */
  ERR_SESSION_NOT_FOUND: { userCaused: true, grpc: G.NOT_FOUND, http: 404, exit: 1 },
  /** An upload entry or destination would escape the allowed directories (absolute path, `..`, symlink). */
  ERR_TRANSFER_REFUSED: { userCaused: true, grpc: G.PERMISSION_DENIED, http: 403, exit: 1 },
  /** tar inside the sandbox failed during an upload or download (missing path, no permission, disk full). */
  ERR_TRANSFER_FAILED: { userCaused: true, grpc: G.FAILED_PRECONDITION, http: 409, exit: 1 },
  /** The operation exists in the API but this build does not implement it yet. */
  ERR_NOT_IMPLEMENTED: { userCaused: false, grpc: G.UNIMPLEMENTED, http: 501, exit: 1 },
  /** A bug: an invariant broke. The message says where. */
  ERR_INTERNAL: { userCaused: false, grpc: G.INTERNAL, http: 500, exit: 1 },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is a catalogued error code. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}
