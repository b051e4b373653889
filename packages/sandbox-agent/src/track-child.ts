import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { OpenShellError } from '@openshell/policy-schema';
import type { ProcessExit } from './process-launcher.js';

/**
 * How long output may keep flowing after the process exited. A background job that
 * inherited stdout (`sleep 60 &`) keeps the pipe or terminal open forever; the session ends
 * this long after its process did, instead of waiting for the orphan.
 */
export const DRAIN_GRACE_MS = 200;

/** Waits for Node to report the child as started (its execve succeeded) or failed. */
export function waitForSpawn(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    function onSpawn(): void {
      child.off('error', onError);
      resolve();
    }
    function onError(cause: Error): void {
      child.off('spawn', onSpawn);
      reject(
        new OpenShellError('ERR_ENFORCER_FAILED', `could not start ${what}: ${cause.message}`, {
          cause,
        }),
      );
    }
    child.once('spawn', onSpawn);
    child.once('error', onError);
  });
}

/**
 * Resolves with the exit status once the child exited and every output stream ended, or
 * DRAIN_GRACE_MS after the exit when an orphan still holds one open (then they are destroyed).
 */
export function trackExit(
  child: ChildProcess,
  outputs: readonly Readable[],
  onExit: () => void,
): Promise<ProcessExit> {
  const ended = outputs.map(
    (stream) =>
      new Promise<void>((resolve) => {
        if (stream.readableEnded || stream.destroyed) resolve();
        stream.once('end', resolve);
        stream.once('close', resolve);
        // EIO from a pty master means "every slave fd is closed": an ordinary end.
        stream.on('error', () => resolve());
      }),
  );
  return new Promise((resolve) => {
    child.once('exit', function onChildExit(code, signal) {
      onExit();
      const status: ProcessExit = { code, signal };
      const timer = setTimeout(function stopDraining() {
        for (const stream of outputs) stream.destroy();
        resolve(status);
      }, DRAIN_GRACE_MS);
      void Promise.all(ended).then(function drained() {
        clearTimeout(timer);
        resolve(status);
      });
    });
  });
}

/**
 * Signals the process group `pid` leads. Every launched process leads its own group (setsid
 * before the launcher), so a timeout or cancel also reaches the children it started.
 * ESRCH means it is already gone, which is the outcome wanted.
 */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
