import { toOpenShellError } from '@openshell/policy-schema';
import {
  OutputChannel,
  type ExitStatus,
  type SessionInput,
  type SessionRequest,
} from '@openshell/proto';
import type { OutputChannelName } from './process-launcher.js';

/**
 * One connection the agent talks over: the gateway stream, or one client of the control
 * socket. Sessions answer on the channel that started them; object identity is the key.
 */
export interface SessionChannel {
  send(event: SessionRequest): void;
}

/** The controls a SessionInput can carry. */
export type SessionInputValue = NonNullable<SessionInput['input']>;

/** A running exec/connect/upload/download session, as the engine sees it. */
export interface Session {
  readonly channel: SessionChannel;
  input(input: SessionInputValue): void;
  /** Its channel went away without ending it. */
  abandon(): void;
}

/** The signals a client may send to a session's process group (SessionInput.signal). */
export const FORWARDABLE_SIGNALS: ReadonlySet<string> = new Set([
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGTERM',
  'SIGKILL',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGALRM',
]);

/** Narrows a client-supplied signal name to one the agent forwards; undefined otherwise. */
export function toForwardableSignal(name: string): NodeJS.Signals | undefined {
  return FORWARDABLE_SIGNALS.has(name) ? (name as NodeJS.Signals) : undefined;
}

export function outputEvent(
  sessionId: string,
  channel: OutputChannelName,
  data: Buffer,
): SessionRequest {
  const wire =
    channel === 'stdout'
      ? OutputChannel.OUTPUT_CHANNEL_STDOUT
      : OutputChannel.OUTPUT_CHANNEL_STDERR;
  return { payload: { $case: 'sessionOutput', value: { sessionId, channel: wire, data } } };
}

export function startedEvent(sessionId: string, pid?: number): SessionRequest {
  return {
    payload: {
      $case: 'sessionStarted',
      value: pid === undefined ? { sessionId } : { sessionId, pid },
    },
  };
}

/** SessionFailed carrying the catalogued code of whatever was thrown. */
export function failedEvent(sessionId: string, error: unknown): SessionRequest {
  const failure = toOpenShellError(error);
  return {
    payload: {
      $case: 'sessionFailed',
      value: { sessionId, code: failure.code, message: failure.message },
    },
  };
}

export function exitedEvent(
  pid: number,
  exit: ExitStatus,
  options: { readonly main: boolean; readonly sessionId?: string | undefined },
): SessionRequest {
  const value =
    options.sessionId === undefined
      ? { pid, exit, main: options.main }
      : { pid, exit, main: options.main, sessionId: options.sessionId };
  return { payload: { $case: 'processExited', value } };
}
