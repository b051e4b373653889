import {
  Action,
  DecisionLayer,
  Enforcement,
  LifecycleEventKind,
  LogLevel,
  LogSource,
  SandboxPhase,
} from '@openshell/proto';

// Lower-case names used by `--source`/`--level`, the JSON output and (upper-cased) the text
// lines. Records keyed by the enum make a new proto value a compile error here rather than a
// silently blank column.

export const SOURCE_NAMES: Readonly<Record<LogSource, string>> = {
  [LogSource.LOG_SOURCE_UNSPECIFIED]: 'unknown',
  [LogSource.LOG_SOURCE_GATEWAY]: 'gateway',
  [LogSource.LOG_SOURCE_SANDBOX]: 'sandbox',
  [LogSource.LOG_SOURCE_PROXY]: 'proxy',
  [LogSource.UNRECOGNIZED]: 'unknown',
};

export const LEVEL_NAMES: Readonly<Record<LogLevel, string>> = {
  [LogLevel.LOG_LEVEL_UNSPECIFIED]: 'info',
  [LogLevel.LOG_LEVEL_DEBUG]: 'debug',
  [LogLevel.LOG_LEVEL_INFO]: 'info',
  [LogLevel.LOG_LEVEL_WARN]: 'warn',
  [LogLevel.LOG_LEVEL_ERROR]: 'error',
  [LogLevel.UNRECOGNIZED]: 'info',
};

export const ACTION_NAMES: Readonly<Record<Action, string>> = {
  [Action.ACTION_UNSPECIFIED]: 'unknown',
  [Action.ACTION_ALLOW]: 'allow',
  [Action.ACTION_DENY]: 'deny',
  [Action.ACTION_AUDIT]: 'audit',
  [Action.UNRECOGNIZED]: 'unknown',
};

export const LAYER_NAMES: Readonly<Record<DecisionLayer, string>> = {
  [DecisionLayer.DECISION_LAYER_UNSPECIFIED]: 'unknown',
  [DecisionLayer.DECISION_LAYER_L4]: 'l4',
  [DecisionLayer.DECISION_LAYER_L7]: 'l7',
  [DecisionLayer.DECISION_LAYER_SSRF]: 'ssrf',
  [DecisionLayer.DECISION_LAYER_CREDENTIAL]: 'credential',
  [DecisionLayer.DECISION_LAYER_INFERENCE]: 'inference',
  [DecisionLayer.UNRECOGNIZED]: 'unknown',
};

export const ENFORCEMENT_NAMES: Readonly<Record<Enforcement, string | null>> = {
  [Enforcement.ENFORCEMENT_UNSPECIFIED]: null,
  [Enforcement.ENFORCEMENT_ENFORCE]: 'enforce',
  [Enforcement.ENFORCEMENT_AUDIT]: 'audit',
  [Enforcement.UNRECOGNIZED]: null,
};

/** Display text of a lifecycle kind (the text line) and its JSON name. */
export const LIFECYCLE_KINDS: Readonly<Record<LifecycleEventKind, { text: string; json: string }>> =
  {
    [LifecycleEventKind.LIFECYCLE_EVENT_KIND_UNSPECIFIED]: { text: 'Event', json: 'unknown' },
    [LifecycleEventKind.LIFECYCLE_EVENT_KIND_CREATED]: { text: 'Created', json: 'created' },
    [LifecycleEventKind.LIFECYCLE_EVENT_KIND_READY]: { text: 'Ready', json: 'ready' },
    [LifecycleEventKind.LIFECYCLE_EVENT_KIND_PROCESS_EXITED]: {
      text: 'Process exited',
      json: 'process_exited',
    },
    [LifecycleEventKind.LIFECYCLE_EVENT_KIND_POLICY_LOADED]: {
      text: 'Policy loaded',
      json: 'policy_loaded',
    },
    [LifecycleEventKind.LIFECYCLE_EVENT_KIND_POLICY_FAILED]: {
      text: 'Policy failed',
      json: 'policy_failed',
    },
    [LifecycleEventKind.LIFECYCLE_EVENT_KIND_DELETED]: { text: 'Deleted', json: 'deleted' },
    [LifecycleEventKind.LIFECYCLE_EVENT_KIND_ERROR]: { text: 'Error', json: 'error' },
    [LifecycleEventKind.LIFECYCLE_EVENT_KIND_ENFORCEMENT_DEGRADED]: {
      text: 'Enforcement degraded',
      json: 'enforcement_degraded',
    },
    [LifecycleEventKind.UNRECOGNIZED]: { text: 'Event', json: 'unknown' },
  };

export const PHASE_NAMES: Readonly<Record<SandboxPhase, string>> = {
  [SandboxPhase.SANDBOX_PHASE_UNSPECIFIED]: 'Unknown',
  [SandboxPhase.SANDBOX_PHASE_PROVISIONING]: 'Provisioning',
  [SandboxPhase.SANDBOX_PHASE_READY]: 'Ready',
  [SandboxPhase.SANDBOX_PHASE_ERROR]: 'Error',
  [SandboxPhase.SANDBOX_PHASE_DELETING]: 'Deleting',
  [SandboxPhase.UNRECOGNIZED]: 'Unknown',
};
