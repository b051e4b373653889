import type { LogEntry } from '@openshell/proto';
import {
  ACTION_NAMES,
  ENFORCEMENT_NAMES,
  LAYER_NAMES,
  LEVEL_NAMES,
  LIFECYCLE_KINDS,
  PHASE_NAMES,
  SOURCE_NAMES,
} from './log-vocabulary.js';

/**
 * The stable `logs -o json` object for one entry: snake_case keys, enum values as lower-case
 * names, absent optionals as null (so every object of a type has the same keys), and both the
 * ISO time (for people) and epoch milliseconds (for arithmetic).
 */
export function logEntryToJson(entry: LogEntry): Record<string, unknown> {
  const base = { source: SOURCE_NAMES[entry.source], level: LEVEL_NAMES[entry.level] };
  const event = entry.event;
  if (event?.$case === 'decision') {
    const d = event.value;
    return {
      type: 'decision',
      time: isoTime(d.timeMs),
      time_ms: d.timeMs,
      ...base,
      sandbox: d.sandboxName,
      sandbox_id: d.sandboxId,
      policy_version: d.policyVersion,
      action: ACTION_NAMES[d.action],
      layer: LAYER_NAMES[d.layer],
      enforcement: ENFORCEMENT_NAMES[d.enforcement],
      binary: d.binary,
      pid: d.pid ?? null,
      ancestors: d.ancestors,
      matched_binary: d.matchedBinary ?? null,
      host: d.host,
      port: d.port,
      method: d.method ?? null,
      path: d.path ?? null,
      resolved_address: d.resolvedAddress ?? null,
      policy: d.policy ?? null,
      policy_name: d.policyName ?? null,
      rule: d.rule ?? null,
      reason: d.reason,
      denial_code: d.denialCode ?? null,
      route: d.route ?? null,
    };
  }
  if (event?.$case === 'lifecycle') {
    const e = event.value;
    return {
      type: 'lifecycle',
      time: isoTime(e.timeMs),
      time_ms: e.timeMs,
      ...base,
      sandbox: e.sandboxName,
      sandbox_id: e.sandboxId,
      kind: LIFECYCLE_KINDS[e.kind].json,
      phase: PHASE_NAMES[e.phase].toLowerCase(),
      message: e.message,
      exit:
        e.exit === undefined
          ? null
          : {
              code: e.exit.code ?? null,
              signal: e.exit.signal ?? null,
              timed_out: e.exit.timedOut,
            },
      policy_version: e.policyVersion ?? null,
    };
  }
  return { type: 'unknown', time: null, time_ms: null, ...base };
}

function isoTime(ms: number): string | null {
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null;
}
