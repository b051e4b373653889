import { Action, WatchEventType } from '@openshell/proto';
import { describe, expect, test } from 'vitest';
import {
  appendLogLines,
  filterLogLines,
  nextActionFilter,
  visibleWindow,
  type ActionFilter,
} from './log-buffer.js';
import { applyWatchEvent, EMPTY_SANDBOX_MAP, resetForResync } from './sandbox-map.js';
import { makeDecision, makeSandbox } from './test-helpers/fake-term-gateway.js';

const ADDED = WatchEventType.WATCH_EVENT_TYPE_ADDED;
const UPDATED = WatchEventType.WATCH_EVENT_TYPE_UPDATED;
const DELETED = WatchEventType.WATCH_EVENT_TYPE_DELETED;
const SYNCED = WatchEventType.WATCH_EVENT_TYPE_SYNCED;

describe('applyWatchEvent', () => {
  test('ADDED inserts in creation order, UPDATED replaces by id, DELETED removes', () => {
    let state = applyWatchEvent(EMPTY_SANDBOX_MAP, {
      type: ADDED,
      sandbox: makeSandbox('late', { createdAtMs: 2_000 }),
    });
    state = applyWatchEvent(state, {
      type: ADDED,
      sandbox: makeSandbox('early', { createdAtMs: 1_000 }),
    });
    expect(state.sandboxes.map((s) => s.name)).toEqual(['early', 'late']);

    state = applyWatchEvent(state, {
      type: UPDATED,
      sandbox: makeSandbox('late', { createdAtMs: 2_000, currentPolicyVersion: 7 }),
    });
    expect(state.sandboxes).toHaveLength(2);
    expect(state.sandboxes[1]?.currentPolicyVersion).toBe(7);

    state = applyWatchEvent(state, { type: DELETED, sandbox: makeSandbox('early') });
    expect(state.sandboxes.map((s) => s.name)).toEqual(['late']);
  });

  test('SYNCED marks the snapshot complete and keeps the sandboxes', () => {
    const added = applyWatchEvent(EMPTY_SANDBOX_MAP, { type: ADDED, sandbox: makeSandbox('a') });
    expect(added.synced).toBe(false);
    const synced = applyWatchEvent(added, { type: SYNCED, sandbox: undefined });
    expect(synced).toEqual({ sandboxes: added.sandboxes, synced: true });
  });

  test.each([
    ['ADDED without a sandbox', { type: ADDED, sandbox: undefined }],
    ['DELETED without a sandbox', { type: DELETED, sandbox: undefined }],
    [
      'UNSPECIFIED',
      { type: WatchEventType.WATCH_EVENT_TYPE_UNSPECIFIED, sandbox: makeSandbox('x') },
    ],
  ])('%s changes nothing', (_name, event) => {
    const state = applyWatchEvent(EMPTY_SANDBOX_MAP, { type: ADDED, sandbox: makeSandbox('a') });
    expect(applyWatchEvent(state, event)).toBe(state);
  });

  test('a resync drops sandboxes the replay will not mention again', () => {
    const state = applyWatchEvent(EMPTY_SANDBOX_MAP, { type: ADDED, sandbox: makeSandbox('gone') });
    expect(resetForResync({ ...state, synced: true })).toEqual({ sandboxes: [], synced: false });
  });
});

describe('log buffer', () => {
  const entries = [
    makeDecision('demo', Action.ACTION_ALLOW, 'api.github.com'),
    makeDecision('demo', Action.ACTION_DENY, 'example.com'),
    makeDecision('demo', Action.ACTION_AUDIT, 'pypi.org'),
    makeDecision('demo', Action.ACTION_DENY, 'evil.example.net'),
  ];
  const lines = appendLogLines([], entries);

  test('formats each entry once as a short line (no date, source or sandbox), without colour', () => {
    expect(lines[1]?.text).toMatch(
      /^\d\d:\d\d:\d\d {2}DENY {3}\/usr\/bin\/curl → example\.com:443 {2}CONNECT {2}test$/,
    );
    expect(lines[1]?.text).not.toContain('\u001b[');
    expect(lines.map((l) => l.action)).toEqual(['allow', 'deny', 'audit', 'deny']);
  });

  test('keeps only the newest `capacity` lines', () => {
    const many = Array.from({ length: 25 }, (_, i) =>
      makeDecision('demo', Action.ACTION_ALLOW, `h${i}.test`),
    );
    const kept = appendLogLines(appendLogLines([], many.slice(0, 15), 10), many.slice(15), 10);
    expect(kept).toHaveLength(10);
    expect(kept[0]?.text).toContain('h15.test');
    expect(kept[9]?.text).toContain('h24.test');
  });

  test.each<[ActionFilter, string, string[]]>([
    ['all', '', ['api.github.com', 'example.com', 'pypi.org', 'evil.example.net']],
    ['deny', '', ['example.com', 'evil.example.net']],
    ['allow', '', ['api.github.com']],
    ['audit', '', ['pypi.org']],
    ['all', 'EXAMPLE', ['example.com', 'evil.example.net']],
    ['deny', 'evil', ['evil.example.net']],
    ['allow', 'example', []],
  ])('action %s, text %j keeps %j', (action, text, hosts) => {
    const kept = filterLogLines(lines, { action, text });
    expect(
      kept.map((l) => (l.entry.event?.$case === 'decision' ? l.entry.event.value.host : '')),
    ).toEqual(hosts);
  });

  test('the action filter cycles all → deny → allow → audit → all', () => {
    const seen: ActionFilter[] = ['all'];
    for (let i = 0; i < 4; i += 1) seen.push(nextActionFilter(seen[seen.length - 1] ?? 'all'));
    expect(seen).toEqual(['all', 'deny', 'allow', 'audit', 'all']);
  });

  test.each([
    // total, height, scrollBack → start, end
    [100, 10, 0, 90, 100],
    [100, 10, 5, 85, 95],
    [100, 10, 500, 0, 10],
    [3, 10, 0, 0, 3],
    [3, 10, 2, 0, 3],
    [0, 10, 0, 0, 0],
  ])('visibleWindow(%i, %i, %i) = [%i, %i)', (total, height, back, start, end) => {
    expect(visibleWindow(total, height, back)).toEqual({ start, end });
  });
});
