import {
  PolicyStatus as ProtoPolicyStatus,
  SandboxPhase as ProtoPhase,
  type DecisionCounts,
  type PolicyRevision,
  type Sandbox,
  type SandboxSpec,
} from '@openshell/proto';
import type {
  PolicyRevisionRecord,
  SandboxPhase,
  SandboxRecord,
  StoredSandboxSpec,
} from '../store/gateway-store.js';

const PHASES: Record<SandboxPhase, ProtoPhase> = {
  Provisioning: ProtoPhase.SANDBOX_PHASE_PROVISIONING,
  Ready: ProtoPhase.SANDBOX_PHASE_READY,
  Error: ProtoPhase.SANDBOX_PHASE_ERROR,
  Deleting: ProtoPhase.SANDBOX_PHASE_DELETING,
};

const STATUSES: Record<PolicyRevisionRecord['status'], ProtoPolicyStatus> = {
  Pending: ProtoPolicyStatus.POLICY_STATUS_PENDING,
  Loaded: ProtoPolicyStatus.POLICY_STATUS_LOADED,
  Failed: ProtoPolicyStatus.POLICY_STATUS_FAILED,
  Superseded: ProtoPolicyStatus.POLICY_STATUS_SUPERSEDED,
};

export function toProtoPhase(phase: SandboxPhase): ProtoPhase {
  return PHASES[phase];
}

export function toProtoSpec(spec: StoredSandboxSpec): SandboxSpec {
  return {
    ...(spec.from === undefined ? {} : { from: spec.from }),
    providers: [...spec.providers],
    env: { ...spec.env },
    command: [...spec.command],
    tty: spec.tty,
    ...(spec.cpuMillicores === undefined ? {} : { cpuMillicores: spec.cpuMillicores }),
    ...(spec.memoryBytes === undefined ? {} : { memoryBytes: spec.memoryBytes }),
    ...(spec.pidsMax === undefined ? {} : { pidsMax: spec.pidsMax }),
    deleteOnExit: spec.deleteOnExit,
  };
}

export function toProtoSandbox(record: SandboxRecord, counts?: DecisionCounts): Sandbox {
  return {
    id: record.id,
    name: record.name,
    labels: { ...record.labels },
    createdAtMs: record.createdAtMs,
    updatedAtMs: record.updatedAtMs,
    phase: PHASES[record.phase],
    ...(record.phaseReason === undefined ? {} : { phaseReason: record.phaseReason }),
    ...(record.mainExit === undefined ? {} : { mainExit: { ...record.mainExit, timedOut: false } }),
    spec: toProtoSpec(record.spec),
    currentPolicyVersion: record.currentPolicyVersion,
    decisions: counts ?? { allowed: 0, denied: 0, audited: 0 },
  };
}

export function toProtoRevision(revision: PolicyRevisionRecord): PolicyRevision {
  return {
    version: revision.version,
    hash: revision.hash,
    status: STATUSES[revision.status],
    createdAtMs: revision.createdAtMs,
    ...(revision.loadedAtMs === undefined ? {} : { loadedAtMs: revision.loadedAtMs }),
    ...(revision.error === undefined ? {} : { error: revision.error }),
    ...(revision.proxyAckedAtMs === undefined ? {} : { proxyAckedAtMs: revision.proxyAckedAtMs }),
    ...(revision.agentAckedAtMs === undefined ? {} : { agentAckedAtMs: revision.agentAckedAtMs }),
  };
}
