import { OpenShellError } from '@openshell/policy-schema';
import type { ExecRequest, ExecResponse, ExecStart, ExitStatus } from '@openshell/proto';
import type { GatewayConnection } from '../gateway/gateway-client.js';
import { fromGrpcError } from '../gateway/grpc-error.js';
import {
  enterRawMode,
  processIo,
  terminalSize,
  writeWithBackpressure,
  type SessionIo,
} from './terminal.js';

/** Signals forwarded to the remote process when there is no PTY to carry Ctrl-C as a byte. */
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/**
 * Runs one command through Exec and relays stdin, stdout and stderr until it exits; resolves
 * with its exit status. With `start.tty` the local terminal goes raw and resizes follow
 * SIGWINCH; without it, Ctrl-C and friends are forwarded as signals. The terminal and every
 * listener are restored on each way out (exit, error, gateway gone).
 */
export function runExec(
  conn: Pick<GatewayConnection, 'client'>,
  start: Omit<ExecStart, 'size'>,
  io: SessionIo = processIo(),
): Promise<ExitStatus> {
  return new Promise<ExitStatus>((resolve, reject) => {
    const call = conn.client.exec();
    const restoreTerminal = start.tty ? enterRawMode(io) : () => {};
    let exit: ExitStatus | undefined;
    let done = false;
    // After the exit status (or teardown) our side is half-closed; a late keystroke or
    // resize must not write after end.
    const send = (payload: NonNullable<ExecRequest['payload']>): void => {
      if (!done && exit === undefined) call.write({ payload });
    };

    const onStdin = (chunk: Buffer | string): void => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      send({ $case: 'stdin', value: data });
    };
    const onStdinEnd = (): void => {
      send({ $case: 'eof', value: {} });
    };
    const onResize = (): void => {
      send({ $case: 'resize', value: terminalSize(io) });
    };
    let interrupts = 0;
    const signalHandlers = FORWARDED_SIGNALS.map((signal) => {
      const handler = (): void => {
        // A second Ctrl-C means the remote side is not reacting (or the gateway is gone):
        // give the user their shell back instead of trapping them.
        if (signal === 'SIGINT' && ++interrupts > 1) process.exit(130);
        send({ $case: 'signal', value: signal });
      };
      return { signal, handler };
    });

    const cleanup = (): void => {
      done = true;
      restoreTerminal();
      io.stdin.removeListener('data', onStdin);
      io.stdin.removeListener('end', onStdinEnd);
      // Paused and unreferenced, stdin no longer keeps the process alive after the session.
      io.stdin.pause();
      (io.stdin as { unref?: () => void }).unref?.();
      io.stdout.removeListener('resize', onResize);
      for (const { signal, handler } of signalHandlers) process.removeListener(signal, handler);
    };

    call.on('data', function onExecResponse(msg: ExecResponse) {
      const payload = msg.payload;
      if (payload === undefined) return;
      switch (payload.$case) {
        case 'started':
          return;
        case 'stdout':
          writeWithBackpressure(io.stdout, payload.value, call);
          return;
        case 'stderr':
          writeWithBackpressure(io.stderr, payload.value, call);
          return;
        case 'exit':
          exit = payload.value;
          call.end();
          return;
      }
    });
    call.on('error', (err: unknown) => {
      if (done) return;
      cleanup();
      reject(fromGrpcError(err));
    });
    call.on('end', () => {
      if (done) return;
      cleanup();
      if (exit !== undefined) resolve(exit);
      else
        reject(
          new OpenShellError(
            'ERR_GATEWAY_UNAVAILABLE',
            'the gateway ended the exec session without an exit status; the command may still be running',
          ),
        );
    });

    call.write({
      payload: {
        $case: 'start',
        value: { ...start, ...(start.tty ? { size: terminalSize(io) } : {}) },
      },
    });
    io.stdin.on('data', onStdin);
    io.stdin.on('end', onStdinEnd);
    io.stdin.resume();
    if (start.tty) io.stdout.on('resize', onResize);
    else for (const { signal, handler } of signalHandlers) process.on(signal, handler);
  });
}
