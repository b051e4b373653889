import { OpenShellError } from '@openshell/policy-schema';
import type { ConnectRequest, ConnectResponse, ExitStatus } from '@openshell/proto';
import type { GatewayConnection } from '../gateway/gateway-client.js';
import { fromGrpcError } from '../gateway/grpc-error.js';
import { createDetachScanner } from './detach-keys.js';
import {
  enterRawMode,
  processIo,
  terminalSize,
  writeWithBackpressure,
  type SessionIo,
} from './terminal.js';

export type ConnectOutcome =
  | { readonly kind: 'exited'; readonly exit: ExitStatus; readonly sessionId: string }
  | { readonly kind: 'detached'; readonly sessionId: string };

/**
 * An interactive shell session over Connect: raw terminal, resize on SIGWINCH, Ctrl-P Ctrl-Q
 * sends `detach` (the shell keeps running and `sessionId` re-attaches). Resolves when the
 * shell exits or the detach is confirmed; the terminal is restored on every way out.
 */
export function runConnect(
  conn: Pick<GatewayConnection, 'client'>,
  options: { sandbox: string; sessionId?: string },
  io: SessionIo = processIo(),
): Promise<ConnectOutcome> {
  return new Promise<ConnectOutcome>((resolve, reject) => {
    const call = conn.client.connect();
    const restoreTerminal = enterRawMode(io);
    const scan = createDetachScanner();
    let sessionId = options.sessionId ?? '';
    let outcome: ConnectOutcome | undefined;
    let closed = false;
    const send = (payload: NonNullable<ConnectRequest['payload']>): void => {
      if (!closed && outcome === undefined) call.write({ payload });
    };
    const onStdin = (chunk: Buffer | string): void => {
      const { forward, detach } = scan(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (forward.length > 0) send({ $case: 'input', value: forward });
      if (detach) send({ $case: 'detach', value: {} });
    };
    const onResize = (): void => send({ $case: 'resize', value: terminalSize(io) });
    const cleanup = (): void => {
      closed = true;
      restoreTerminal();
      io.stdin.removeListener('data', onStdin);
      io.stdin.pause();
      (io.stdin as { unref?: () => void }).unref?.();
      io.stdout.removeListener('resize', onResize);
    };

    call.on('data', function onConnectResponse(msg: ConnectResponse) {
      const payload = msg.payload;
      if (payload === undefined) return;
      switch (payload.$case) {
        case 'started':
          sessionId = payload.value.sessionId;
          return;
        case 'output':
          writeWithBackpressure(io.stdout, payload.value, call);
          return;
        case 'exit':
          outcome = { kind: 'exited', exit: payload.value, sessionId };
          call.end();
          return;
        case 'detached':
          outcome = { kind: 'detached', sessionId: payload.value.sessionId || sessionId };
          call.end();
          return;
      }
    });
    call.on('error', (err: unknown) => {
      if (closed) return;
      cleanup();
      reject(fromGrpcError(err));
    });
    call.on('end', () => {
      if (closed) return;
      cleanup();
      if (outcome !== undefined) resolve(outcome);
      else
        reject(
          new OpenShellError(
            'ERR_GATEWAY_UNAVAILABLE',
            `the gateway ended the session without an exit or detach; re-attach with --session ${sessionId || '<id>'} if the shell still runs`,
          ),
        );
    });

    const term = process.env['TERM'];
    call.write({
      payload: {
        $case: 'start',
        value: {
          sandbox: options.sandbox,
          argv: [],
          env: {},
          size: terminalSize(io),
          ...(term !== undefined ? { term } : {}),
          ...(options.sessionId !== undefined ? { sessionId: options.sessionId } : {}),
        },
      },
    });
    io.stdin.on('data', onStdin);
    io.stdin.resume();
    io.stdout.on('resize', onResize);
  });
}
