import type {
  ServerDuplexStream,
  ServerReadableStream,
  ServerWritableStream,
  sendUnaryData,
} from '@grpc/grpc-js';
import { OpenShellError, isErrorCode } from '@openshell/policy-schema';
import type {
  ConnectRequest,
  ConnectResponse,
  DownloadRequest,
  DownloadResponse,
  ExecRequest,
  ExecResponse,
  ProcessSpec,
  UploadRequest,
  UploadResponse,
} from '@openshell/proto';
import { toServiceError } from './grpc-errors.js';
import type { SandboxLifecycle } from './sandbox-lifecycle.js';
import type { RelaySession, SupervisorHub } from './supervisor-hub.js';

/** How long a session waits for a Ready sandbox's agent to (re)connect. */
const AGENT_WAIT_MS = 10_000;

function agentError(code: string, message: string): OpenShellError {
  return new OpenShellError(isErrorCode(code) ? code : 'ERR_INTERNAL', message);
}

function lostError(reason: string): OpenShellError {
  return new OpenShellError(
    'ERR_SANDBOX_NOT_READY',
    `the session ended because ${reason}; the sandbox may have stopped (see \`openshell sandbox list\`)`,
  );
}

/**
 * Relays exec, connect, upload and download between a CLI stream and the sandbox's agent
 * stream. The gateway never interprets session bytes; it checks the sandbox is Ready, adds
 * the provider placeholders to the environment, and ties the two streams' lifetimes together
 * (a client that goes away cancels its process; an agent that goes away ends the client's call).
 */
export function createSessionRelays(deps: {
  readonly lifecycle: SandboxLifecycle;
  readonly supervisor: () => SupervisorHub;
}) {
  const { lifecycle } = deps;

  async function readyRecord(ref: string) {
    const record = await lifecycle.resolve(ref);
    if (record.phase !== 'Ready') {
      throw new OpenShellError(
        'ERR_SANDBOX_NOT_READY',
        `sandbox ${record.name} is ${record.phase}${record.phaseReason === undefined ? '' : ` (${record.phaseReason})`}; it must be Ready`,
      );
    }
    await deps.supervisor().waitConnected(record.id, AGENT_WAIT_MS);
    return record;
  }

  async function processSpec(
    ref: string,
    start: {
      argv: readonly string[];
      env: Readonly<Record<string, string>>;
      workdir?: string | undefined;
      tty: boolean;
      size?: { rows: number; cols: number } | undefined;
    },
  ): Promise<{ id: string; spec: ProcessSpec }> {
    const record = await readyRecord(ref);
    const env = { ...(await lifecycle.placeholderEnv(record)), ...record.spec.env, ...start.env };
    return {
      id: record.id,
      spec: {
        argv: [...start.argv],
        env,
        workdir: start.workdir ?? '',
        tty: start.tty,
        ...(start.size === undefined ? {} : { size: start.size }),
        user: '',
        group: '',
      },
    };
  }

  /** The two ends a relay can finish a client stream with. */
  interface StreamEnds {
    fail(error: unknown): void;
    end(): void;
  }

  /**
   * The plumbing exec and connect share: the first message must be `start`; the stream is
   * paused until the agent session exists (so no input is lost meanwhile); later messages
   * are forwarded; a client that goes away gets `onCancel`. Finishing happens once.
   */
  function relayProcessStream<Req extends { payload?: { $case: string } | undefined }, Res>(
    call: ServerDuplexStream<Req, Res>,
    name: string,
    open: (start: NonNullable<Req['payload']>, ends: StreamEnds) => Promise<RelaySession>,
    forward: (
      session: RelaySession,
      payload: NonNullable<Req['payload']>,
      ends: StreamEnds,
    ) => void,
    onCancel: (session: RelaySession) => void,
  ): void {
    let session: RelaySession | undefined;
    let finished = false;
    const ends: StreamEnds = {
      fail(error) {
        if (finished) return;
        finished = true;
        session?.close();
        call.emit('error', toServiceError(error));
      },
      end() {
        finished = true;
        session?.close();
        call.end();
      },
    };
    call.on('data', (message: Req) => {
      const payload = message.payload;
      if (payload === undefined || finished) return;
      if (payload.$case === 'start') {
        if (session !== undefined) return;
        call.pause();
        open(payload, ends)
          .then((opened) => {
            session = opened;
            call.resume();
          })
          .catch((error: unknown) => ends.fail(error));
        return;
      }
      if (session === undefined) {
        ends.fail(new OpenShellError('ERR_USAGE', `the first ${name} message must be start`));
        return;
      }
      forward(session, payload, ends);
    });
    call.on('cancelled', () => {
      if (!finished && session !== undefined) onCancel(session);
      finished = true;
      session?.close();
    });
    call.on('error', () => undefined);
  }

  function exec(call: ServerDuplexStream<ExecRequest, ExecResponse>): void {
    relayProcessStream(
      call,
      'Exec',
      async (payload, ends) => {
        if (payload.$case !== 'start') throw new Error('unreachable');
        const start = payload.value;
        const { id, spec } = await processSpec(start.sandbox, start);
        return deps.supervisor().openSession(
          id,
          (sessionId) => ({
            $case: 'exec',
            value: {
              sessionId,
              process: spec,
              ...(start.timeoutMs === undefined ? {} : { timeoutMs: start.timeoutMs }),
            },
          }),
          {
            started: (pid) =>
              call.write({ payload: { $case: 'started', value: { pid: pid ?? 0 } } }),
            output: (channel, data) => call.write({ payload: { $case: channel, value: data } }),
            exited: (exit) => {
              call.write({ payload: { $case: 'exit', value: exit } });
              ends.end();
            },
            failed: (code, text) => ends.fail(agentError(code, text)),
            lost: (reason) => ends.fail(lostError(reason)),
          },
        );
      },
      (session, payload) => {
        switch (payload.$case) {
          case 'stdin':
            session.input({ $case: 'data', value: payload.value });
            return;
          case 'eof':
            session.input({ $case: 'eof', value: {} });
            return;
          case 'resize':
            session.input({ $case: 'resize', value: payload.value });
            return;
          case 'signal':
            session.input({ $case: 'signal', value: payload.value });
            return;
          case 'start':
            return;
        }
      },
      (session) => session.input({ $case: 'cancel', value: {} }),
    );
  }

  function connect(call: ServerDuplexStream<ConnectRequest, ConnectResponse>): void {
    let processId = '';
    relayProcessStream(
      call,
      'Connect',
      async (payload, ends) => {
        if (payload.$case !== 'start') throw new Error('unreachable');
        const start = payload.value;
        const env = { ...start.env, ...(start.term === undefined ? {} : { TERM: start.term }) };
        const { id, spec } = await processSpec(start.sandbox, {
          argv: start.argv,
          env,
          tty: true,
          size: start.size,
        });
        return deps.supervisor().openSession(
          id,
          (sessionId) => {
            // The agent names an attachable shell by the id of the session that started it.
            processId = start.sessionId ?? sessionId;
            return {
              $case: 'connect',
              value: {
                sessionId,
                process: spec,
                ...(start.sessionId === undefined ? {} : { attachTo: start.sessionId }),
              },
            };
          },
          {
            started: () =>
              call.write({
                payload: {
                  $case: 'started',
                  value: { sessionId: processId, reattached: start.sessionId !== undefined },
                },
              }),
            output: (_channel, data) => call.write({ payload: { $case: 'output', value: data } }),
            exited: (exit) => {
              call.write({ payload: { $case: 'exit', value: exit } });
              ends.end();
            },
            failed: (code, text) => ends.fail(agentError(code, text)),
            lost: (reason) => ends.fail(lostError(reason)),
          },
        );
      },
      (session, payload, ends) => {
        switch (payload.$case) {
          case 'input':
            session.input({ $case: 'data', value: payload.value });
            return;
          case 'resize':
            session.input({ $case: 'resize', value: payload.value });
            return;
          case 'detach':
            session.input({ $case: 'detach', value: {} });
            call.write({ payload: { $case: 'detached', value: { sessionId: processId } } });
            ends.end();
            return;
          case 'start':
            return;
        }
      },
      // A client that vanishes without detaching leaves the shell running (like a dropped SSH
      // session under a multiplexer): it can be re-attached by id.
      (session) => session.input({ $case: 'detach', value: {} }),
    );
  }

  function upload(
    call: ServerReadableStream<UploadRequest, UploadResponse>,
    callback: sendUnaryData<UploadResponse>,
  ): void {
    let session: RelaySession | undefined;
    let finished = false;
    let ended = false;
    const finish = (error: unknown, response?: UploadResponse): void => {
      if (finished) return;
      finished = true;
      session?.close();
      if (error !== null) callback(toServiceError(error));
      else callback(null, response);
    };
    call.on('data', (message: UploadRequest) => {
      const payload = message.payload;
      if (payload === undefined || finished) return;
      if (payload.$case === 'header') {
        if (session !== undefined) return;
        const header = payload.value;
        call.pause();
        readyRecord(header.sandbox)
          .then((record) => {
            session = deps.supervisor().openSession(
              record.id,
              (sessionId) => ({
                $case: 'upload',
                value: { sessionId, dest: header.dest ?? '/sandbox' },
              }),
              {
                done: (bytes, entries) =>
                  finish(null, { bytesReceived: bytes, entriesWritten: entries }),
                failed: (code, text) => finish(agentError(code, text)),
                lost: (reason) => finish(lostError(reason)),
              },
            );
            if (ended) session.input({ $case: 'eof', value: {} });
            call.resume();
          })
          .catch((error: unknown) => finish(error));
        return;
      }
      if (session === undefined) {
        finish(new OpenShellError('ERR_USAGE', 'the first Upload message must be the header'));
        return;
      }
      session.input({ $case: 'data', value: payload.value });
    });
    call.on('end', () => {
      ended = true;
      session?.input({ $case: 'eof', value: {} });
    });
    call.on('cancelled', () => {
      if (!finished) session?.input({ $case: 'cancel', value: {} });
      finished = true;
      session?.close();
    });
    call.on('error', () => undefined);
  }

  function download(call: ServerWritableStream<DownloadRequest, DownloadResponse>): void {
    let finished = false;
    let session: RelaySession | undefined;
    const fail = (error: unknown): void => {
      if (finished) return;
      finished = true;
      session?.close();
      call.emit('error', toServiceError(error));
    };
    readyRecord(call.request.sandbox)
      .then((record) => {
        session = deps
          .supervisor()
          .openSession(
            record.id,
            (sessionId) => ({ $case: 'download', value: { sessionId, path: call.request.path } }),
            {
              output: (_channel, data) => call.write({ chunk: data }),
              done: () => {
                finished = true;
                session?.close();
                call.end();
              },
              failed: (code, text) => fail(agentError(code, text)),
              lost: (reason) => fail(lostError(reason)),
            },
          );
      })
      .catch(fail);
    call.on('cancelled', () => {
      if (!finished) session?.input({ $case: 'cancel', value: {} });
      finished = true;
      session?.close();
    });
  }

  return { exec, connect, upload, download };
}
