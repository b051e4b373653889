import { SandboxPhase, type Sandbox } from '@openshell/proto';

/** Phase as users see it (REFERENCE.md: Provisioning, Ready, Error, Deleting). */
export function toPhaseName(phase: SandboxPhase): string {
  switch (phase) {
    case SandboxPhase.SANDBOX_PHASE_PROVISIONING:
      return 'Provisioning';
    case SandboxPhase.SANDBOX_PHASE_READY:
      return 'Ready';
    case SandboxPhase.SANDBOX_PHASE_ERROR:
      return 'Error';
    case SandboxPhase.SANDBOX_PHASE_DELETING:
      return 'Deleting';
    case SandboxPhase.SANDBOX_PHASE_UNSPECIFIED:
    case SandboxPhase.UNRECOGNIZED:
      return 'Unknown';
  }
}

/** The stable `-o json` shape of one sandbox (`sandbox list`, `sandbox create -o json`). */
export interface SandboxRecord {
  readonly id: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly created_at: string;
  readonly phase: string;
  readonly current_policy_version: number;
}

/** Sandbox message → the JSON record scripts read. */
export function toSandboxRecord(sandbox: Sandbox): SandboxRecord {
  return {
    id: sandbox.id,
    name: sandbox.name,
    labels: { ...sandbox.labels },
    created_at: new Date(sandbox.createdAtMs).toISOString(),
    phase: toPhaseName(sandbox.phase),
    current_policy_version: sandbox.currentPolicyVersion,
  };
}
