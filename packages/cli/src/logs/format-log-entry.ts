import {
  DecisionLayer,
  type DecisionEvent,
  type LifecycleEvent,
  type LogEntry,
} from '@openshell/proto';
import { formatTime } from '../render/format-time.js';
import {
  ACTION_NAMES,
  ENFORCEMENT_NAMES,
  LAYER_NAMES,
  LEVEL_NAMES,
  LIFECYCLE_KINDS,
  PHASE_NAMES,
  SOURCE_NAMES,
} from './log-vocabulary.js';

export interface LogLineOptions {
  /** ANSI colour for the action/level column (a TTY without NO_COLOR). */
  readonly color: boolean;
}

const ANSI: Readonly<Record<string, string>> = {
  ALLOW: '\u001b[32m',
  DENY: '\u001b[31m',
  AUDIT: '\u001b[33m',
  WARN: '\u001b[33m',
  ERROR: '\u001b[31m',
  DEBUG: '\u001b[2m',
};
const RESET = '\u001b[0m';

/**
 * One log entry as one line, columns separated by two spaces so `grep`, `awk` and `cut`
 * work on them:
 * `TIME UTC  ACTION|LEVEL  SOURCE  SANDBOX  MESSAGE`, e.g.
 * `2026-11-27 10:15:02 UTC  DENY   proxy    demo  /usr/bin/curl → example.com:443  CONNECT  no matching policy`.
 * Decisions show their action (ALLOW/DENY/AUDIT) where lifecycle lines show their level, so
 * `grep ' DENY '` finds every refusal. Values are stripped of control characters: a host
 * or path chosen by the sandbox must not be able to move the user's cursor or fake a line.
 */
export function formatLogEntry(entry: LogEntry, options: LogLineOptions): string {
  const event = entry.event;
  const source = SOURCE_NAMES[entry.source].padEnd(7);
  if (event?.$case === 'decision') {
    const d = event.value;
    const tag = ACTION_NAMES[d.action].toUpperCase();
    return [
      formatTime(d.timeMs),
      paint(tag.padEnd(5), tag, options),
      source,
      clean(d.sandboxName) || '-',
      describeDecision(d),
    ].join('  ');
  }
  const level = LEVEL_NAMES[entry.level].toUpperCase();
  const life = event?.$case === 'lifecycle' ? event.value : undefined;
  return [
    formatTime(life?.timeMs ?? 0),
    paint(level.padEnd(5), level, options),
    source,
    clean(life?.sandboxName ?? '') || '-',
    life === undefined ? '(empty entry)' : describeLifecycle(life),
  ].join('  ');
}

/**
 * The dashboard's narrower line for one sandbox's log pane, where the title already names the
 * sandbox and 80 columns must show the destination: `HH:MM:SS  ACTION  MESSAGE`, e.g.
 * `10:15:02  DENY   /usr/bin/curl(12) → example.com:443  CONNECT  no matching policy`.
 */
export function formatLogEntryShort(entry: LogEntry): string {
  const event = entry.event;
  const clock = (ms: number): string => formatTime(ms).slice(11, 19) || '-';
  if (event?.$case === 'decision') {
    const d = event.value;
    return [
      clock(d.timeMs),
      ACTION_NAMES[d.action].toUpperCase().padEnd(5),
      describeDecision(d),
    ].join('  ');
  }
  const life = event?.$case === 'lifecycle' ? event.value : undefined;
  return [
    clock(life?.timeMs ?? 0),
    LEVEL_NAMES[entry.level].toUpperCase().padEnd(5),
    life === undefined ? '(empty entry)' : describeLifecycle(life),
  ].join('  ');
}

function describeDecision(d: DecisionEvent): string {
  const who = `${clean(d.binary) || '?'}${d.pid === undefined ? '' : `(${d.pid})`}`;
  const request =
    d.method === undefined ? 'CONNECT' : `${clean(d.method)} ${clean(d.path ?? '') || '/'}`;
  const fields: string[] = [];
  if (d.policy !== undefined) fields.push(`policy=${quote(d.policy)}`);
  if (d.rule !== undefined) fields.push(`rule=${quote(d.rule)}`);
  if (d.route !== undefined) fields.push(`route=${quote(d.route)}`);
  // L4 and L7 are the ordinary layers; name the others, which no network policy can override.
  if (d.layer !== DecisionLayer.DECISION_LAYER_L4 && d.layer !== DecisionLayer.DECISION_LAYER_L7) {
    fields.push(`layer=${LAYER_NAMES[d.layer]}`);
  }
  if (d.denialCode !== undefined) fields.push(`error=${quote(d.denialCode)}`);
  const enforcement = ENFORCEMENT_NAMES[d.enforcement];
  if (enforcement === 'audit') fields.push('enforcement=audit');
  return [`${who} → ${clean(d.host)}:${d.port}`, request, ...fields, clean(d.reason)]
    .filter((part) => part !== '')
    .join('  ');
}

function describeLifecycle(e: LifecycleEvent): string {
  const parts = [LIFECYCLE_KINDS[e.kind].text];
  if (e.policyVersion !== undefined) parts.push(`version=${e.policyVersion}`);
  if (e.exit?.code !== undefined) parts.push(`code=${e.exit.code}`);
  if (e.exit?.signal !== undefined) parts.push(`signal=${clean(e.exit.signal)}`);
  parts.push(`phase=${PHASE_NAMES[e.phase]}`);
  const message = clean(e.message);
  return message === '' ? parts.join(' ') : `${parts.join(' ')} — ${message}`;
}

function paint(text: string, tag: string, options: LogLineOptions): string {
  const code = ANSI[tag];
  return options.color && code !== undefined ? `${code}${text}${RESET}` : text;
}

/** Control characters (C0, DEL, C1) replaced so a line stays one line and inert. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** `k=v` values with spaces or quotes are JSON-quoted so the pair stays one token. */
function quote(text: string): string {
  const value = clean(text);
  return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
}
