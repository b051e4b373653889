import { chmodSync, lstatSync, rmSync } from 'node:fs';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { OpenShellError } from '@openshell/policy-schema';
import type { AgentHello, SessionRequest, SessionResponse } from '@openshell/proto';
import { SupervisorControlService } from './control-service.js';
import type { EventOutbox } from './event-outbox.js';
import type { Logger } from './logger.js';
import type { SessionEngine } from './session-engine.js';
import type { SessionChannel } from './session-events.js';

export interface ControlSocketOptions {
  readonly path: string;
  readonly engine: SessionEngine;
  readonly outbox: EventOutbox;
  readonly hello: () => AgentHello;
  readonly log: Logger;
}

export interface ControlSocket {
  close(): Promise<void>;
}

/** Removes a stale socket from an earlier run; anything else at the path is left alone. */
function removeStaleSocket(path: string): void {
  try {
    if (!lstatSync(path).isSocket()) {
      throw new OpenShellError(
        'ERR_USAGE',
        `--control-socket ${path} exists and is not a socket; choose another path`,
      );
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  rmSync(path);
}

/**
 * Serves SupervisorControl on a unix socket (file mode): each client gets hello, then the
 * events a gateway would, and drives sessions by sending commands. The socket is made 0600:
 * whoever can connect can run commands in the sandbox.
 */
export async function serveControlSocket(options: ControlSocketOptions): Promise<ControlSocket> {
  const { engine, outbox, log } = options;
  const server = new Server();
  server.addService(SupervisorControlService, {
    session(call: ServerDuplexStream<SessionResponse, SessionRequest>) {
      let open = true;
      const channel: SessionChannel = {
        send(event) {
          if (open) call.write(event);
        },
      };
      function closeChannel(reason: string): void {
        if (!open) return;
        open = false;
        log('control client disconnected', { reason });
        outbox.remove(channel);
        engine.closeChannel(channel);
      }
      channel.send({ payload: { $case: 'hello', value: options.hello() } });
      outbox.add(channel);
      call.on('data', (command: SessionResponse) => engine.handle(command, channel));
      call.on('end', () => {
        closeChannel('end of stream');
        call.end();
      });
      call.on('cancelled', () => closeChannel('cancelled'));
      call.on('error', (error: Error) => closeChannel(`stream error: ${error.message}`));
    },
  });
  removeStaleSocket(options.path);
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix:${options.path}`, ServerCredentials.createInsecure(), (error) => {
      if (error === null) resolve();
      else
        reject(
          new OpenShellError(
            'ERR_USAGE',
            `cannot listen on --control-socket ${options.path}: ${error.message}`,
            { cause: error },
          ),
        );
    });
  });
  chmodSync(options.path, 0o600);
  log('control socket listening', { path: options.path });
  return {
    close: () =>
      new Promise((resolve) => {
        server.tryShutdown(() => resolve());
        // Open client streams would hold tryShutdown forever; the agent is exiting anyway.
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500).unref();
      }),
  };
}
