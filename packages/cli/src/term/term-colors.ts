import { SandboxPhase } from '@openshell/proto';
import type { LogLine } from './log-buffer.js';

/** Ink colour for a phase, or undefined when colour is off (NO_COLOR, not a TTY). */
export function phaseColor(phase: SandboxPhase, color: boolean): string | undefined {
  if (!color) return undefined;
  switch (phase) {
    case SandboxPhase.SANDBOX_PHASE_READY:
      return 'green';
    case SandboxPhase.SANDBOX_PHASE_PROVISIONING:
      return 'yellow';
    case SandboxPhase.SANDBOX_PHASE_ERROR:
      return 'red';
    case SandboxPhase.SANDBOX_PHASE_DELETING:
      return 'gray';
    case SandboxPhase.SANDBOX_PHASE_UNSPECIFIED:
    case SandboxPhase.UNRECOGNIZED:
      return undefined;
  }
}

/** Ink colour for a log line's action, or undefined when colour is off. */
export function actionColor(action: LogLine['action'], color: boolean): string | undefined {
  if (!color) return undefined;
  if (action === 'deny') return 'red';
  if (action === 'audit') return 'yellow';
  if (action === 'allow') return 'green';
  return undefined;
}

/** Whether the dashboard may colour: NO_COLOR set to anything non-empty turns it off (no-color.org). */
export function shouldUseColor(env: NodeJS.ProcessEnv, isTty: boolean): boolean {
  return isTty && (env['NO_COLOR'] ?? '') === '';
}

/** `{ color }` for an ink Text, or nothing when uncoloured (exactOptionalPropertyTypes forbids `color={undefined}`). */
export function colorProp(color: string | undefined): { color?: string } {
  return color === undefined ? {} : { color };
}
