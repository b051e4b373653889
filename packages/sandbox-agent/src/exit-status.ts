import type { ExitStatus } from '@openshell/proto';
import type { ProcessExit } from './process-launcher.js';

/** The wire form of an exit: a code, or a signal name (numbers differ between architectures). */
export function toExitStatus(exit: ProcessExit, timedOut = false): ExitStatus {
  if (exit.signal !== null) return { signal: exit.signal, timedOut };
  return { code: exit.code ?? 0, timedOut };
}
