import { ERROR_CODES, isErrorCode, type ErrorCode, type ErrorCodeInfo } from './catalogue.js';

export interface OpenShellErrorOptions {
  readonly cause?: unknown;
  /** Structured, JSON-serialisable context (diagnostics, the offending field, a suggestion). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error type of the project. `code` selects the gRPC status, HTTP status and
 * exit code from the catalogue; the message says what went wrong, which input, and how
 * to fix it.
 *
 * @example
 * throw new OpenShellError('ERR_SANDBOX_NOT_FOUND', 'sandbox "dmeo" not found; did you mean "demo"?');
 */
export class OpenShellError extends Error {
  override readonly name = 'OpenShellError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: OpenShellErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  get info(): ErrorCodeInfo {
    return ERROR_CODES[this.code];
  }

  /** A stable JSON form for `-o json` and HTTP/gRPC error bodies. */
  toJSON(): { code: ErrorCode; message: string; details: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** True for an OpenShellError, including one from another copy of this module. */
export function isOpenShellError(value: unknown): value is OpenShellError {
  return (
    value instanceof OpenShellError ||
    (value instanceof Error &&
      value.name === 'OpenShellError' &&
      isErrorCode((value as { code?: unknown }).code))
  );
}

/** Wraps anything thrown into an OpenShellError (unknown failures become ERR_INTERNAL). */
export function toOpenShellError(value: unknown): OpenShellError {
  if (isOpenShellError(value)) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new OpenShellError('ERR_INTERNAL', message, { cause: value });
}

/** CLI exit code for any thrown value. */
export function exitCodeOf(value: unknown): number {
  return toOpenShellError(value).info.exit;
}
