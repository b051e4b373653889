import type { ProcessSpec, SessionRequest } from '@openshell/proto';
import { AttachableProcess } from './attachable-process.js';
import type { ProcessSessionDeps } from './exec-session.js';
import { toExitStatus } from './exit-status.js';
import type { OutputChannelName, ProcessExit } from './process-launcher.js';
import { exitedEvent } from './session-events.js';
import { toLaunchRequest } from './to-launch-request.js';

/** `attach_to` value naming the main process. */
export const MAIN_SESSION_ID = 'main';

export interface MainProcessDeps extends ProcessSessionDeps {
  readonly broadcast: (event: SessionRequest, options?: { readonly sticky?: boolean }) => void;
  readonly onAttachmentEnd: (sessionId: string) => void;
  /** Where the main process's output goes while nobody is attached (the driver's log). */
  readonly writeUnattached: (channel: OutputChannelName, data: Buffer) => void;
}

export interface StartedMain {
  readonly process: AttachableProcess;
  /** Resolves once the exit was reported. */
  readonly exited: Promise<ProcessExit>;
}

/**
 * Starts the sandbox's main process (DESIGN §3 step 4) and reports its end with
 * ProcessExited{main: true} to every channel, queued while none is connected. A viewer can
 * attach with `attach_to: "main"` and see the output it missed (up to a bound).
 */
export async function startMainProcess(
  deps: MainProcessDeps,
  spec: ProcessSpec,
): Promise<StartedMain> {
  const main = new AttachableProcess(MAIN_SESSION_ID, {
    killOnAbandon: false,
    onUnattachedOutput: deps.writeUnattached,
    onAttachmentEnd: deps.onAttachmentEnd,
    log: deps.log,
  });
  const proc = await deps.launcher.spawn(toLaunchRequest(spec, deps.config, main.onOutput));
  main.setProcess(proc);
  main.announce();
  deps.log('main process started', { pid: proc.pid, argv: spec.argv });
  const exited = proc.exited.then(function reportMainExit(exit) {
    deps.log('main process exited', { pid: proc.pid, code: exit.code, signal: exit.signal });
    const viewer = main.viewer;
    if (viewer !== undefined) main.detach(viewer.sessionId);
    deps.broadcast(exitedEvent(proc.pid, toExitStatus(exit), { main: true }), { sticky: true });
    return exit;
  });
  return { process: main, exited };
}
