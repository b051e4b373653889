import { DEFAULT_POLICY, parsePolicy } from '@openshell/policy-schema';
import { PolicyStatus, type PolicyRevision } from '@openshell/proto';
import { describe, expect, test } from 'vitest';
import { confirmRemovals, findRemovedPolicies, type ConfirmDeps } from './confirm-removals.js';
import { formatPolicyGet, formatRevisionList, policyGetToJson } from './revision-view.js';
import { describeWriteOutcome } from './write-outcome.js';

const HASH = '9f2c4e1a7b3d'.padEnd(64, '0');
const T = Date.UTC(2026, 10, 27, 10, 15, 2);

function revision(overrides: Partial<PolicyRevision> = {}): PolicyRevision {
  return {
    version: 3,
    hash: HASH,
    status: PolicyStatus.POLICY_STATUS_LOADED,
    createdAtMs: T,
    ...overrides,
  };
}

describe('policy get rendering', () => {
  test('header only, then --full with --- and the body', () => {
    const response = { revision: revision(), activeVersion: 3, yaml: 'version: 1\n' };
    expect(formatPolicyGet(response, false)).toBe(
      [
        'Version:      3',
        `Hash:         ${HASH}`,
        'Status:       Loaded',
        'Active:       3',
        'Created:      2026-11-27 10:15:02 UTC',
        '',
      ].join('\n'),
    );
    expect(formatPolicyGet(response, true)).toMatch(
      /Created: {6}2026-11-27 10:15:02 UTC\n---\nversion: 1\n$/,
    );
  });

  test('a failed older revision shows Loaded/Error lines and the active one; JSON mirrors it', () => {
    const failed = revision({
      version: 4,
      status: PolicyStatus.POLICY_STATUS_FAILED,
      loadedAtMs: T + 1000,
      error: 'proxy refused:\n bad rule',
    });
    expect(formatPolicyGet({ revision: failed, activeVersion: 3, yaml: '' }, false)).toContain(
      'Status:       Failed\nActive:       3\nCreated:      2026-11-27 10:15:02 UTC\nLoaded:       2026-11-27 10:15:03 UTC\nError:        proxy refused: bad rule\n',
    );
    expect(
      policyGetToJson({ revision: failed, activeVersion: 3, yaml: 'version: 1\n' }, true),
    ).toEqual({
      version: 4,
      hash: HASH,
      status: 'failed',
      active: false,
      active_version: 3,
      created_at: '2026-11-27T10:15:02.000Z',
      loaded_at: '2026-11-27T10:15:03.000Z',
      error: 'proxy refused:\n bad rule',
      yaml: 'version: 1\n',
    });
  });

  test('nothing active yet shows Active: -', () => {
    const text = formatPolicyGet(
      {
        revision: revision({ status: PolicyStatus.POLICY_STATUS_PENDING }),
        activeVersion: 0,
        yaml: '',
      },
      false,
    );
    expect(text).toContain('Status:       Pending\nActive:       -\n');
  });

  test('a revision without status is refused as a gateway bug', () => {
    expect(() =>
      formatPolicyGet(
        {
          revision: revision({ status: PolicyStatus.POLICY_STATUS_UNSPECIFIED }),
          activeVersion: 3,
          yaml: '',
        },
        false,
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_INTERNAL' }));
  });
});

test('policy list: newest first, 12-hex hash, active marked', () => {
  const text = formatRevisionList(
    [
      revision({ version: 1, status: PolicyStatus.POLICY_STATUS_SUPERSEDED }),
      revision({ version: 3, hash: 'ab'.repeat(32) }),
      revision({ version: 2, status: PolicyStatus.POLICY_STATUS_FAILED, error: 'x'.repeat(80) }),
    ],
    3,
  );
  expect(text).toBe(
    [
      'VERSION  HASH          STATUS      CREATED                  ERROR',
      '3*       abababababab  Loaded      2026-11-27 10:15:02 UTC',
      `2        9f2c4e1a7b3d  Failed      2026-11-27 10:15:02 UTC  ${'x'.repeat(59)}…`,
      '1        9f2c4e1a7b3d  Superseded  2026-11-27 10:15:02 UTC',
      '',
    ].join('\n'),
  );
});

describe('describeWriteOutcome', () => {
  const opts = { wait: true, timeoutSeconds: 5, sandbox: 'demo' };
  test.for([
    [
      'loaded',
      { revision: revision(), unchanged: false, waitTimedOut: false },
      opts,
      0,
      'stdout',
      /^✓ Policy version 3 loaded$/,
    ],
    [
      'unchanged',
      { revision: revision(), unchanged: true, waitTimedOut: false },
      opts,
      0,
      'stdout',
      /^Policy unchanged \(version 3\)$/,
    ],
    [
      'failed',
      {
        revision: revision({ status: PolicyStatus.POLICY_STATUS_FAILED, error: 'bad' }),
        unchanged: false,
        waitTimedOut: false,
      },
      opts,
      1,
      'stderr',
      /^✗ Policy version 3 failed to load: bad\n/,
    ],
    [
      'timeout',
      {
        revision: revision({ status: PolicyStatus.POLICY_STATUS_PENDING, proxyAckedAtMs: T }),
        unchanged: false,
        waitTimedOut: true,
      },
      opts,
      124,
      'stderr',
      /^Timed out after 5s waiting for policy version 3 to load \(waiting for the sandbox agent\)/,
    ],
    [
      'pending without --wait',
      {
        revision: revision({ status: PolicyStatus.POLICY_STATUS_PENDING }),
        unchanged: false,
        waitTimedOut: false,
      },
      { ...opts, wait: false },
      0,
      'stdout',
      /^Policy version 3 submitted \(pending\); pass --wait/,
    ],
    [
      'superseded',
      {
        revision: revision({ status: PolicyStatus.POLICY_STATUS_SUPERSEDED }),
        unchanged: false,
        waitTimedOut: false,
      },
      opts,
      0,
      'stdout',
      /superseded/,
    ],
  ] as const)('%s', ([, result, options, exitCode, stream, message]) => {
    const outcome = describeWriteOutcome(result, options);
    expect(outcome).toMatchObject({ exitCode, stream });
    expect(outcome.message).toMatch(message);
  });
});

describe('removal confirmation', () => {
  const active = `version: 1
network_policies:
  github_api:
    endpoints: [{ host: api.github.com, port: 443 }]
    binaries: [{ path: /usr/bin/curl }]
  pypi:
    endpoints: [{ host: pypi.org, port: 443 }]
    binaries: [{ path: /usr/bin/pip }]
`;
  const next = parsePolicy(
    'version: 1\nnetwork_policies:\n  pypi:\n    endpoints: [{ host: pypi.org, port: 443 }]\n    binaries: [{ path: /usr/bin/pip }]\n',
    { file: 'next.yaml' },
  ).policy!;

  test('finds active ids the new policy drops (and none for a superset)', () => {
    expect(findRemovedPolicies(active, next)).toEqual(['github_api']);
    expect(findRemovedPolicies(active, parsePolicy(active, { file: 'x' }).policy!)).toEqual([]);
    expect(findRemovedPolicies('version: 1\n', DEFAULT_POLICY)).toEqual([]);
  });

  test('an unparsable active policy fails closed', () => {
    expect(() => findRemovedPolicies('version: 9\n', next)).toThrow(
      expect.objectContaining({ code: 'ERR_INTERNAL' }),
    );
  });

  function deps(interactive: boolean, answer: string) {
    const written: string[] = [];
    const asked: string[] = [];
    const d: ConfirmDeps = {
      interactive,
      write: (t) => written.push(t),
      ask: (q) => {
        asked.push(q);
        return Promise.resolve(answer);
      },
    };
    return { d, written, asked };
  }

  test('non-interactive without --yes is refused with exit-2 code, listing the removals', async () => {
    const { d, asked } = deps(false, 'y');
    await expect(
      confirmRemovals(['github_api'], { yes: false, sandbox: 'demo' }, d),
    ).rejects.toMatchObject({
      code: 'ERR_USAGE',
      message: expect.stringMatching(
        /remove 1 network policy active on sandbox demo:\n {2}- github_api\nPass --yes/,
      ),
    });
    expect(asked).toEqual([]);
  });

  test.for([
    ['y', true],
    ['YES', true],
    ['', false],
    ['n', false],
  ] as const)('interactive answer %j → %s', async ([answer, expected]) => {
    const { d, written, asked } = deps(true, answer);
    await expect(confirmRemovals(['a', 'b'], { yes: false, sandbox: 'demo' }, d)).resolves.toBe(
      expected,
    );
    expect(written.join('')).toContain(
      'removes 2 network policies active on sandbox demo:\n  - a\n  - b\n',
    );
    expect(asked).toEqual(['Apply it? [y/N] ']);
  });

  test('--yes or nothing removed: no question', async () => {
    const { d, asked } = deps(false, 'n');
    await expect(confirmRemovals(['a'], { yes: true, sandbox: 'demo' }, d)).resolves.toBe(true);
    await expect(confirmRemovals([], { yes: false, sandbox: 'demo' }, d)).resolves.toBe(true);
    expect(asked).toEqual([]);
  });
});
