import type BetterSqlite3 from 'better-sqlite3';
import { OpenShellError } from '@openshell/policy-schema';
import type {
  EventLevel,
  EventQuery,
  EventRecord,
  NewEvent,
  RetentionPolicy,
} from './gateway-store.js';
import { toEventRecord, type EventRow } from './sqlite-rows.js';

/** Severity order; minLevel keeps this level and everything after it. */
const LEVELS: readonly EventLevel[] = ['debug', 'info', 'warn', 'error'];
const DEFAULT_LIMIT = 200;

export interface SqliteEvents {
  append(events: readonly NewEvent[]): EventRecord[];
  query(query: EventQuery): EventRecord[];
  prune(retention: RetentionPolicy, nowMs: number): number;
}

/** The event log half of the SQLite store (synchronous; the store wraps it in promises). */
export function createSqliteEvents(db: BetterSqlite3.Database): SqliteEvents {
  const insert = db.prepare(
    `INSERT INTO events (time_ms, sandbox_id, sandbox_name, source, level, kind, payload)
     VALUES (@timeMs, @sandboxId, @sandboxName, @source, @level, @kind, @payload)`,
  );
  const deleteOlder = db.prepare('DELETE FROM events WHERE time_ms < ?');
  // The subquery is NULL when there are at most maxCount rows, and `id <= NULL` matches none.
  const deleteBeyondCount = db.prepare(
    'DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)',
  );
  // A query's SQL depends only on which filters are present (a handful of shapes), so the
  // prepared statements are cached by text instead of recompiled per call.
  const queries = new Map<string, BetterSqlite3.Statement<unknown[], EventRow>>();

  const appendAll = db.transaction(function appendAll(events: readonly NewEvent[]) {
    return events.map(function appendOne(event): EventRecord {
      const info = insert.run({
        timeMs: event.timeMs,
        sandboxId: event.sandboxId,
        sandboxName: event.sandboxName,
        source: event.source,
        level: event.level,
        kind: event.kind,
        payload: event.payload,
      });
      return { ...pickEvent(event), id: Number(info.lastInsertRowid) };
    });
  });

  const pruneAll = db.transaction(function pruneAll(retention: RetentionPolicy, nowMs: number) {
    const byAge = deleteOlder.run(nowMs - retention.maxAgeMs).changes;
    const byCount = deleteBeyondCount.run(retention.maxCount).changes;
    return byAge + byCount;
  });

  return {
    append: (events) => appendAll.immediate(events),
    query: function queryEvents(query) {
      const limit = query.limit ?? DEFAULT_LIMIT;
      assertCount('limit', limit);
      const where: string[] = [];
      const params: unknown[] = [];
      if (query.sandboxId !== undefined) {
        where.push('sandbox_id = ?');
        params.push(query.sandboxId);
      }
      if (query.sinceMs !== undefined) {
        where.push('time_ms >= ?');
        params.push(query.sinceMs);
      }
      if (query.sources !== undefined && query.sources.length > 0) {
        where.push(`source IN (${query.sources.map(() => '?').join(', ')})`);
        params.push(...query.sources);
      }
      if (query.minLevel !== undefined) {
        const from = LEVELS.indexOf(query.minLevel);
        // slice(-1) would quietly mean "error only": an unknown level is a caller bug.
        if (from < 0) {
          throw new OpenShellError('ERR_INTERNAL', `unknown event level "${query.minLevel}"`);
        }
        const atOrAbove = LEVELS.slice(from);
        where.push(`level IN (${atOrAbove.map(() => '?').join(', ')})`);
        params.push(...atOrAbove);
      }
      if (query.afterId !== undefined) {
        where.push('id > ?');
        params.push(query.afterId);
      }
      // Newest `limit` first (an index walk from the top), then flipped to oldest first.
      const sql =
        'SELECT * FROM events' +
        (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
        ' ORDER BY id DESC LIMIT ?';
      params.push(limit);
      let statement = queries.get(sql);
      if (statement === undefined) {
        statement = db.prepare<unknown[], EventRow>(sql);
        queries.set(sql, statement);
      }
      return statement
        .all(...params)
        .map(toEventRecord)
        .reverse();
    },
    prune: function pruneEvents(retention, nowMs) {
      assertCount('maxAgeMs', retention.maxAgeMs);
      assertCount('maxCount', retention.maxCount);
      return pruneAll.immediate(retention, nowMs);
    },
  };
}

// SQLite reads a negative LIMIT as "no limit": reject it rather than return everything.
function assertCount(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new OpenShellError(
      'ERR_INTERNAL',
      `event ${what} must be a non-negative integer, got ${String(value)}`,
      { details: { [what]: value } },
    );
  }
}

// Copies only the declared fields, so a caller's extra properties never leak into results.
function pickEvent(event: NewEvent): NewEvent {
  return {
    timeMs: event.timeMs,
    sandboxId: event.sandboxId,
    sandboxName: event.sandboxName,
    source: event.source,
    level: event.level,
    kind: event.kind,
    payload: event.payload,
  };
}
