import { existsSync } from 'node:fs';
import { OpenShellError } from '@openshell/policy-schema';
import type { ConnectSession, ProcessSpec, SessionRequest } from '@openshell/proto';
import { AttachableProcess } from './attachable-process.js';
import type { ProcessSessionDeps } from './exec-session.js';
import type { LaunchedProcess } from './process-launcher.js';
import { toExitStatus } from './exit-status.js';
import {
  exitedEvent,
  failedEvent,
  startedEvent,
  type Session,
  type SessionChannel,
} from './session-events.js';
import { toLaunchRequest, toTerminalSize } from './to-launch-request.js';

/** What connect sessions need from the engine that owns the session tables. */
export interface ShellRegistry {
  addSession(sessionId: string, session: Session): void;
  removeSession(sessionId: string): void;
  /** Processes that `attach_to` can name: detached and attached shells, and `main`. */
  findAttachable(id: string): AttachableProcess | undefined;
  addShell(id: string, shell: AttachableProcess): void;
  removeShell(id: string): void;
  broadcast(event: SessionRequest): void;
}

/** `/bin/bash -l` like `sandbox connect`; `/bin/sh` in root filesystems without bash. */
function defaultShell(): string[] {
  return existsSync('/bin/bash') ? ['/bin/bash', '-l'] : ['/bin/sh', '-l'];
}

function emptySpec(): ProcessSpec {
  return { argv: [], env: {}, workdir: '', tty: true, user: '', group: '' };
}

/**
 * Re-attaches `command.sessionId` to the process named by `attach_to`. The attachment gets
 * its own session id; `attach_to` keeps naming the process (the id of the connect session
 * that started it, or `main`) across any number of detaches.
 */
export function reattach(
  registry: ShellRegistry,
  command: ConnectSession & { attachTo: string },
  channel: SessionChannel,
): void {
  const target = registry.findAttachable(command.attachTo);
  if (target === undefined) {
    channel.send(
      failedEvent(
        command.sessionId,
        new OpenShellError(
          'ERR_SESSION_NOT_FOUND',
          `no session ${JSON.stringify(command.attachTo)} to attach to; it exited or never existed`,
        ),
      ),
    );
    return;
  }
  try {
    registry.addSession(command.sessionId, target.attach(channel, command.sessionId));
  } catch (error) {
    channel.send(failedEvent(command.sessionId, error));
    return;
  }
  channel.send(startedEvent(command.sessionId, target.pid));
  // The returning viewer's terminal may have another size than the one that left.
  if (command.process?.size !== undefined) target.resize(toTerminalSize(command.process.size));
}

/**
 * Starts a shell on a new terminal for `sandbox connect` and runs it to its end. The exit
 * goes to the attached viewer, or to every channel (broadcast) when the shell ends detached.
 */
export async function runShell(
  deps: ProcessSessionDeps,
  registry: ShellRegistry,
  command: ConnectSession,
  channel: SessionChannel,
): Promise<void> {
  const { sessionId } = command;
  const spec = command.process ?? emptySpec();
  const shell = new AttachableProcess(sessionId, {
    killOnAbandon: true,
    onAttachmentEnd: (attachmentId) => registry.removeSession(attachmentId),
    log: deps.log,
  });
  registry.addShell(sessionId, shell);
  registry.addSession(sessionId, shell.attach(channel, sessionId));
  let proc: LaunchedProcess;
  try {
    const argv = spec.argv.length > 0 ? spec.argv : defaultShell();
    const request = toLaunchRequest(spec, deps.config, shell.onOutput, { forceTty: true, argv });
    proc = await deps.launcher.spawn(request);
  } catch (error) {
    registry.removeShell(sessionId);
    shell.detach(sessionId);
    channel.send(failedEvent(sessionId, error));
    return;
  }
  channel.send(startedEvent(sessionId, proc.pid));
  shell.setProcess(proc);
  shell.announce();
  const exit = await proc.exited;
  registry.removeShell(sessionId);
  const viewer = shell.viewer;
  if (viewer === undefined) {
    registry.broadcast(exitedEvent(proc.pid, toExitStatus(exit), { main: false, sessionId }));
    return;
  }
  shell.detach(viewer.sessionId);
  viewer.channel.send(
    exitedEvent(proc.pid, toExitStatus(exit), { main: false, sessionId: viewer.sessionId }),
  );
}
