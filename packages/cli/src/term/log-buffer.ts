import { Action, type LogEntry } from '@openshell/proto';
import { formatLogEntryShort } from '../logs/format-log-entry.js';

/** How many entries the dashboard keeps; older ones are dropped first. */
export const DEFAULT_LOG_CAPACITY = 10_000;

export type ActionFilter = 'all' | 'allow' | 'deny' | 'audit';

/** Order `a` cycles the action filter through. */
export const ACTION_FILTERS: readonly ActionFilter[] = ['all', 'deny', 'allow', 'audit'];

export interface LogLine {
  readonly entry: LogEntry;
  /** The uncoloured short log line, computed once so filtering is a substring test. */
  readonly text: string;
  readonly action: ActionFilter | 'none';
}

export interface LogFilterSpec {
  readonly action: ActionFilter;
  /** Case-insensitive substring of the formatted line; empty = every line. */
  readonly text: string;
}

/** Formats entries once and appends them, keeping only the newest `capacity` lines. */
export function appendLogLines(
  lines: readonly LogLine[],
  entries: readonly LogEntry[],
  capacity: number = DEFAULT_LOG_CAPACITY,
): readonly LogLine[] {
  if (entries.length === 0) return lines;
  const added = entries.map(toLogLine);
  const merged = lines.length === 0 ? added : [...lines, ...added];
  return merged.length > capacity ? merged.slice(merged.length - capacity) : merged;
}

/** The lines that pass the action and text filter, in arrival order. */
export function filterLogLines(lines: readonly LogLine[], filter: LogFilterSpec): LogLine[] {
  const needle = filter.text.trim().toLowerCase();
  if (filter.action === 'all' && needle === '') return [...lines];
  return lines.filter(
    (line) =>
      (filter.action === 'all' || line.action === filter.action) &&
      (needle === '' || line.text.toLowerCase().includes(needle)),
  );
}

/** The next action filter in the `a` cycle. */
export function nextActionFilter(current: ActionFilter): ActionFilter {
  const index = ACTION_FILTERS.indexOf(current);
  return ACTION_FILTERS[(index + 1) % ACTION_FILTERS.length] ?? 'all';
}

/**
 * The rows a list of `total` items shows in `height` rows: the newest page when following,
 * else the page ending `scrollBack` rows above the newest. Only these rows are rendered, so
 * 10,000 lines cost no more to draw than 20.
 */
export function visibleWindow(
  total: number,
  height: number,
  scrollBack: number,
): { start: number; end: number } {
  const rows = Math.max(0, height);
  const back = Math.min(Math.max(0, scrollBack), Math.max(0, total - rows));
  const end = total - back;
  return { start: Math.max(0, end - rows), end };
}

function toLogLine(entry: LogEntry): LogLine {
  const event = entry.event;
  let action: LogLine['action'] = 'none';
  if (event?.$case === 'decision') {
    if (event.value.action === Action.ACTION_ALLOW) action = 'allow';
    else if (event.value.action === Action.ACTION_DENY) action = 'deny';
    else if (event.value.action === Action.ACTION_AUDIT) action = 'audit';
  }
  return { entry, text: formatLogEntryShort(entry), action };
}
