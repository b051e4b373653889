import type { Decision, DecisionAction } from '@openshell/policy-schema';
import type { CallerIdentity } from '../caller/caller-resolver.js';
import type { DecisionEvent, DecisionOutcome, DecisionSink } from './decision-event.js';
import { redactTarget } from './decision-event.js';
import type { JsonlLog } from './jsonl-log.js';
import type { Metrics } from './metrics.js';

/** What a handler knows when it decides; the recorder turns it into one DecisionEvent. */
export interface DecisionInput {
  readonly sandboxId: string | null;
  readonly policyVersion: number | null;
  readonly caller: CallerIdentity | null;
  readonly host: string;
  readonly port: number;
  readonly method: string;
  /** Raw request target; redacted (query and placeholders removed) before it is stored. */
  readonly target?: string;
  /** The policy decision, when decide() ran. */
  readonly decision?: Decision;
  readonly action: DecisionAction;
  readonly outcome: DecisionOutcome;
  /** Overrides `decision.reason` (e.g. for an SSRF refusal after an L4 allow). */
  readonly reason?: string;
  readonly layer?: 'l4' | 'l7';
  /** Inference: the route chosen or refused. */
  readonly route?: string;
  /** Overrides `decision.rule` (inference: the sensitivity rule's name). */
  readonly rule?: string;
}

export interface DecisionRecorder {
  record(input: DecisionInput): DecisionEvent;
}

export interface DecisionRecorderDeps {
  readonly sink?: DecisionSink;
  readonly log?: JsonlLog;
  readonly metrics: Metrics;
  readonly now: () => Date;
}

/** Builds, logs, counts and forwards one event per decision. */
export function createDecisionRecorder(deps: DecisionRecorderDeps): DecisionRecorder {
  return {
    record(input) {
      const d = input.decision;
      const layer = input.layer ?? d?.layer ?? 'l4';
      const event: DecisionEvent = {
        time: deps.now().toISOString(),
        sandbox: input.sandboxId,
        binary: input.caller?.exe ?? null,
        pid: input.caller?.pid ?? null,
        ancestors: input.caller?.ancestors ?? [],
        host: input.host,
        port: input.port,
        method: input.method,
        path: d?.canonicalPath ?? (input.target === undefined ? null : redactTarget(input.target)),
        policy: d?.policy ?? null,
        matchedBinary: d?.matchedBinary ?? null,
        rule: input.rule ?? d?.rule ?? null,
        action: input.action,
        outcome: input.outcome,
        reason: input.reason ?? d?.reason ?? input.outcome,
        layer,
        policyVersion: input.policyVersion,
        ...(input.route === undefined ? {} : { route: input.route }),
      };
      deps.metrics.inc('openshell_proxy_decisions_total', {
        sandbox: input.sandboxId ?? '-',
        layer,
        action: input.action,
        outcome: input.outcome,
      });
      deps.log?.write(event);
      try {
        deps.sink?.(event);
      } catch {
        // A failing sink (gateway stream down) must not turn a decision into a crash;
        // the event is still in the local log.
      }
      return event;
    },
  };
}
