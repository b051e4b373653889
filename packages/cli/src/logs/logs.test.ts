import {
  Action,
  DecisionLayer,
  Enforcement,
  LifecycleEventKind,
  LogLevel,
  LogSource,
  SandboxPhase,
  type DecisionEvent,
  type LogEntry,
} from '@openshell/proto';
import { describe, expect, test } from 'vitest';
import { buildLogFilter } from './build-log-filter.js';
import { formatLogEntry } from './format-log-entry.js';
import { logEntryToJson } from './log-entry-to-json.js';
import { parseSince } from './parse-since.js';

const T = Date.UTC(2026, 10, 27, 10, 15, 2);

function decision(overrides: Partial<DecisionEvent>): LogEntry {
  return {
    source: LogSource.LOG_SOURCE_PROXY,
    level: LogLevel.LOG_LEVEL_WARN,
    event: {
      $case: 'decision',
      value: {
        timeMs: T,
        sandboxId: 'sb-1',
        sandboxName: 'demo',
        policyVersion: 2,
        binary: '/usr/bin/curl',
        ancestors: [],
        host: 'example.com',
        port: 443,
        action: Action.ACTION_DENY,
        layer: DecisionLayer.DECISION_LAYER_L4,
        enforcement: Enforcement.ENFORCEMENT_UNSPECIFIED,
        reason: 'no matching policy',
        ...overrides,
      },
    },
  };
}

const lifecycle: LogEntry = {
  source: LogSource.LOG_SOURCE_GATEWAY,
  level: LogLevel.LOG_LEVEL_INFO,
  event: {
    $case: 'lifecycle',
    value: {
      timeMs: T,
      sandboxId: 'sb-1',
      sandboxName: 'demo',
      kind: LifecycleEventKind.LIFECYCLE_EVENT_KIND_READY,
      phase: SandboxPhase.SANDBOX_PHASE_READY,
      message: '',
    },
  },
};

describe('formatLogEntry', () => {
  test.for([
    [
      'L4 deny',
      decision({ denialCode: 'policy_denied' }),
      '2026-11-27 10:15:02 UTC  DENY   proxy    demo  /usr/bin/curl → example.com:443  CONNECT  error=policy_denied  no matching policy',
    ],
    [
      'L7 allow with pid, policy and rule',
      decision({
        action: Action.ACTION_ALLOW,
        layer: DecisionLayer.DECISION_LAYER_L7,
        pid: 4242,
        method: 'GET',
        path: '/repos/o/r',
        policy: 'github_api',
        rule: 'GET /repos/**',
        reason: 'allowed',
      }),
      '2026-11-27 10:15:02 UTC  ALLOW  proxy    demo  /usr/bin/curl(4242) → example.com:443  GET /repos/o/r  policy=github_api  rule="GET /repos/**"  allowed',
    ],
    [
      'audit endpoint',
      decision({
        action: Action.ACTION_AUDIT,
        layer: DecisionLayer.DECISION_LAYER_L7,
        enforcement: Enforcement.ENFORCEMENT_AUDIT,
        method: 'POST',
        path: '/x',
        policy: 'p',
        reason: 'would be denied',
      }),
      '2026-11-27 10:15:02 UTC  AUDIT  proxy    demo  /usr/bin/curl → example.com:443  POST /x  policy=p  enforcement=audit  would be denied',
    ],
    [
      'SSRF names its layer; control characters are neutralised',
      decision({
        layer: DecisionLayer.DECISION_LAYER_SSRF,
        host: 'evil\u001b[2J.example.com',
        reason: 'internal address',
      }),
      '2026-11-27 10:15:02 UTC  DENY   proxy    demo  /usr/bin/curl → evil?[2J.example.com:443  CONNECT  layer=ssrf  internal address',
    ],
    ['lifecycle', lifecycle, '2026-11-27 10:15:02 UTC  INFO   gateway  demo  Ready phase=Ready'],
    [
      'process exit with message',
      {
        source: LogSource.LOG_SOURCE_SANDBOX,
        level: LogLevel.LOG_LEVEL_ERROR,
        event: {
          $case: 'lifecycle',
          value: {
            timeMs: T,
            sandboxId: 'sb-1',
            sandboxName: '',
            kind: LifecycleEventKind.LIFECYCLE_EVENT_KIND_PROCESS_EXITED,
            phase: SandboxPhase.SANDBOX_PHASE_ERROR,
            message: 'main process ended\nsecond line',
            exit: { code: 3, timedOut: false },
          },
        },
      } satisfies LogEntry,
      '2026-11-27 10:15:02 UTC  ERROR  sandbox  -  Process exited code=3 phase=Error — main process ended?second line',
    ],
  ] as const)('%s', ([, entry, line]) => {
    expect(formatLogEntry(entry, { color: false })).toBe(line);
  });

  test('colour only when asked, around the action column', () => {
    const entry = decision({});
    expect(formatLogEntry(entry, { color: true })).toContain('\u001b[31mDENY \u001b[0m');
    expect(formatLogEntry(entry, { color: false })).not.toContain('\u001b');
  });
});

describe('logEntryToJson', () => {
  test('decision keys are stable and snake_case', () => {
    expect(logEntryToJson(decision({ method: 'GET', path: '/' }))).toMatchInlineSnapshot(`
      {
        "action": "deny",
        "ancestors": [],
        "binary": "/usr/bin/curl",
        "denial_code": null,
        "enforcement": null,
        "host": "example.com",
        "layer": "l4",
        "level": "warn",
        "matched_binary": null,
        "method": "GET",
        "path": "/",
        "pid": null,
        "policy": null,
        "policy_name": null,
        "policy_version": 2,
        "port": 443,
        "reason": "no matching policy",
        "resolved_address": null,
        "route": null,
        "rule": null,
        "sandbox": "demo",
        "sandbox_id": "sb-1",
        "source": "proxy",
        "time": "2026-11-27T10:15:02.000Z",
        "time_ms": 1795774502000,
        "type": "decision",
      }
    `);
  });

  test('lifecycle keys', () => {
    expect(logEntryToJson(lifecycle)).toEqual({
      type: 'lifecycle',
      time: '2026-11-27T10:15:02.000Z',
      time_ms: T,
      source: 'gateway',
      level: 'info',
      sandbox: 'demo',
      sandbox_id: 'sb-1',
      kind: 'ready',
      phase: 'ready',
      message: '',
      exit: null,
      policy_version: null,
    });
  });
});

describe('parseSince', () => {
  const now = T;
  test.for([
    ['30s', now - 30_000],
    ['5m', now - 300_000],
    ['2h', now - 7_200_000],
    ['1d', now - 86_400_000],
    ['1h30m', now - 5_400_000],
    ['2026-11-27T10:00:00Z', Date.UTC(2026, 10, 27, 10)],
    ['2026-11-27 10:15:02 UTC', T],
    ['2026-11-27T10:15:02', T],
    ['2026-11-27T12:15:02+02:00', T],
    ['2026-11-27', Date.UTC(2026, 10, 27)],
  ] as const)('%s', ([text, expected]) => {
    expect(parseSince(text, now)).toBe(expected);
  });

  test.for(['', '5', 'm5', '5 minutes', '-5m', '2026-02-31', 'yesterday', '5w'])(
    '%j is refused with the expected forms',
    (text) => {
      expect(() => parseSince(text, now)).toThrow(
        expect.objectContaining({
          code: 'ERR_USAGE',
          message: expect.stringMatching(/^--since .*: expected a duration such as 30s/),
        }),
      );
    },
  );
});

describe('buildLogFilter', () => {
  test('maps every flag', () => {
    expect(
      buildLogFilter(
        {
          sandbox: 'demo',
          limit: 50,
          since: '5m',
          sources: ['proxy', 'gateway', 'proxy'],
          level: 'warn',
        },
        T,
      ),
    ).toEqual({
      sandbox: 'demo',
      sinceMs: T - 300_000,
      sources: [LogSource.LOG_SOURCE_PROXY, LogSource.LOG_SOURCE_GATEWAY],
      minLevel: LogLevel.LOG_LEVEL_WARN,
      limit: 50,
    });
  });

  test('absent flags stay absent', () => {
    expect(buildLogFilter({ limit: 200, sources: [] }, T)).toEqual({ sources: [], limit: 200 });
  });

  test.for([0, -1, 100_001])('-n %d is refused', (limit) => {
    expect(() => buildLogFilter({ limit, sources: [] }, T)).toThrow(/-n .*: give a count/);
  });
});
