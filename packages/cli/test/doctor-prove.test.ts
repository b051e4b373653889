import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DEFAULT_POLICY, OpenShellError, parsePolicy, type Policy } from '@openshell/policy-schema';
import { describe, expect, test } from 'vitest';
import type { AttemptSpec } from '../src/doctor/attempt-spec.js';
import { blocked, notBlocked, voidProof } from '../src/doctor/attempt-spec.js';
import { PROVE_SCRATCH, buildProveContext } from '../src/doctor/build-prove-context.js';
import { chooseCredentialTarget, chooseL7Target } from '../src/doctor/choose-proxy-targets.js';
import { PROVE_ATTEMPTS, buildProveScript, parseProveOutput } from '../src/doctor/prove-script.js';
import { proveExitCode, summarizeAttempts } from '../src/doctor/prove-summary.js';
import type { AttemptOutcome, ProveReport } from '../src/doctor/prove-types.js';
import { renderProveTable, toProveDocument } from '../src/doctor/render-prove.js';
import { runProve, type ExecOutput, type ProveDeps } from '../src/doctor/run-prove.js';
import { SILENT_PROGRESS } from '../src/render/progress.js';

const run = promisify(execFile);
const CTX = buildProveContext({
  policy: DEFAULT_POLICY,
  gatewayPorts: [17670, 17671],
  supervisorPortHint: 17672,
  tag: 'abc123abc123',
});

// Three attempts with canned judges: enough to see the run's plumbing, not the judges'
// (doctor-prove-judges.test.ts has those).
const FAKE_ATTEMPTS: readonly AttemptSpec[] = [
  {
    id: 'a-blocked',
    category: 'filesystem',
    attempt: 'read a secret',
    script: () => 'r rc 1',
    judge: (rec) =>
      rec.get('rc') === '1' ? blocked('landlock', 'denied') : notBlocked('landlock', 'read it'),
  },
  {
    id: 'b-open',
    category: 'network',
    attempt: 'dial out',
    script: () => 'r rc 0',
    judge: (rec) =>
      rec.get('rc') === '1'
        ? blocked('netns+nftables', 'refused')
        : notBlocked('netns+nftables', 'connected'),
  },
  {
    id: 'c-void',
    category: 'process',
    attempt: 'signal the agent',
    script: () => 'r control 1',
    judge: () => voidProof('uid/capabilities', 'control failed'),
  },
];

interface FakeWorld {
  readonly deps: ProveDeps;
  readonly calls: string[];
}

/** ProveDeps that log every call; `exec` answers with `stdout` or the given behaviour. */
function fakeWorld(
  exec: (argv: string[]) => Promise<ExecOutput>,
  overrides: Partial<ProveDeps> = {},
): FakeWorld {
  const calls: string[] = [];
  const log = (entry: string): Promise<void> => {
    calls.push(entry);
    return Promise.resolve();
  };
  let clock = 1_000;
  const deps: ProveDeps = {
    createProvider: (name, key, _value, hosts) =>
      log(`createProvider ${name} ${key} ${hosts.join(',')}`),
    deleteProvider: (name) => log(`deleteProvider ${name}`),
    createSandbox: (r) =>
      log(
        `createSandbox ${r.name} pids=${String(r.pidsMax)} mem=${String(r.memoryBytes)} providers=${r.providers.join(',')} policy=${r.policy.label}`,
      ),
    deleteSandbox: (name) => log(`deleteSandbox ${name}`),
    upload: (sandbox, file, dest) => log(`upload ${sandbox} ${file} ${dest}`),
    exec: async (sandbox, argv, timeoutMs) => {
      calls.push(`exec ${sandbox} ${argv.slice(0, 2).join(' ')} timeout=${String(timeoutMs)}`);
      return exec(argv);
    },
    host: {
      local: true,
      plantTmpMarker: (name) => {
        calls.push(`plant ${name}`);
        return Promise.resolve(() => log(`unplant ${name}`));
      },
      takeTmpFile: (name) => {
        calls.push(`take ${name}`);
        return Promise.resolve(false);
      },
      listRoot: () => Promise.resolve(['.bashrc']),
      countProcesses: () => Promise.resolve(100),
    },
    progress: SILENT_PROGRESS,
    warn: (message) => calls.push(`warn ${message}`),
    now: () => (clock += 500),
    ...overrides,
  };
  return { deps, calls };
}

/** What the real script prints for FAKE_ATTEMPTS, produced by running it under sh. */
async function runScript(argv: string[]): Promise<ExecOutput> {
  const { stdout, stderr } = await run(argv[0] ?? 'sh', argv.slice(1));
  return { code: 0, signal: undefined, stdout, stderr };
}

const NAME = 'openshell-prove-abc123abc123';
const OPTIONS = {
  policy: { label: 'default', policy: DEFAULT_POLICY },
  context: CTX,
  probePath: '/opt/probe',
  attempts: FAKE_ATTEMPTS,
};
const CLEANUP = [
  `deleteSandbox ${NAME}`,
  `deleteProvider ${NAME}`,
  `unplant openshell-prove-abc123abc123`,
];

describe('runProve', () => {
  test('creates, uploads, runs one exec, judges, then removes sandbox, provider and marker', async () => {
    const world = fakeWorld(runScript);
    const report = await runProve(OPTIONS, world.deps);
    expect(world.calls).toEqual([
      'plant openshell-prove-abc123abc123',
      `createProvider ${NAME} OPENSHELL_PROVE_TOKEN bound.openshell-prove.invalid`,
      `createSandbox ${NAME} pids=64 mem=268435456 providers=${NAME} policy=default`,
      `upload ${NAME} /opt/probe ${PROVE_SCRATCH}`,
      `exec ${NAME} sh -c timeout=60000`,
      'take openshell-prove-abc123abc123-inside',
      ...CLEANUP,
    ]);
    expect(report.attempts.map((a) => [a.id, a.result, a.layer])).toEqual([
      ['a-blocked', 'blocked', 'landlock'],
      ['b-open', 'not_blocked', 'netns+nftables'],
      ['c-void', 'error', 'uid/capabilities'],
    ]);
    expect(report.summary).toEqual({ total: 3, blocked: 1, notBlocked: 1, errors: 1, skipped: 0 });
    expect(report.durationMs).toBe(500);
  });

  test('an attempt whose output stops before `end` is an error, never blocked', async () => {
    const world = fakeWorld(() =>
      Promise.resolve({
        code: 137,
        signal: undefined,
        stdout: '@a-blocked rc 1\n@a-blocked end 1\n@b-open rc 1\n',
        stderr: 'Killed',
      }),
    );
    const report = await runProve(OPTIONS, world.deps);
    expect(report.attempts.map((a) => a.result)).toEqual(['blocked', 'error', 'error']);
    expect(report.attempts[1]?.detail).toBe('the attempt did not run to the end');
  });

  test.for([
    {
      what: 'exec fails',
      deps: {},
      exec: () => Promise.reject(new OpenShellError('ERR_GATEWAY_UNAVAILABLE', 'gone')),
      code: 'ERR_GATEWAY_UNAVAILABLE',
      cleanup: CLEANUP,
    },
    {
      what: 'the sandbox never becomes Ready',
      deps: {
        createSandbox: () => Promise.reject(new OpenShellError('ERR_SANDBOX_NOT_READY', 'boom')),
      },
      exec: runScript,
      code: 'ERR_SANDBOX_NOT_READY',
      cleanup: CLEANUP,
    },
    {
      what: 'the provider cannot be created',
      deps: {
        createProvider: () => Promise.reject(new OpenShellError('ERR_PROVIDER_EXISTS', 'taken')),
      },
      exec: runScript,
      code: 'ERR_PROVIDER_EXISTS',
      cleanup: ['unplant openshell-prove-abc123abc123'],
    },
  ])('cleans up what it made when $what', async ({ deps, exec, code, cleanup }) => {
    const world = fakeWorld(exec, deps);
    await expect(runProve(OPTIONS, world.deps)).rejects.toMatchObject({ code });
    const tail = world.calls.filter((c) => /^(delete|unplant)/.test(c));
    expect(tail).toEqual(cleanup);
  });

  test('an abort (Ctrl-C) during the exec rejects at once and still cleans up', async () => {
    const abort = new AbortController();
    const world = fakeWorld(() => {
      setImmediate(() => abort.abort());
      return new Promise<never>(() => undefined);
    });
    await expect(runProve({ ...OPTIONS, signal: abort.signal }, world.deps)).rejects.toThrow(
      /interrupted/,
    );
    expect(world.calls.slice(-3)).toEqual(CLEANUP);
  });

  test('a cleanup failure is reported, and the other removals still happen', async () => {
    const world = fakeWorld(runScript, {
      deleteSandbox: () => Promise.reject(new Error('gateway gone')),
    });
    await runProve(OPTIONS, world.deps);
    expect(world.calls.slice(-3)).toEqual([
      `warn could not remove sandbox ${NAME}: Error: gateway gone`,
      `deleteProvider ${NAME}`,
      'unplant openshell-prove-abc123abc123',
    ]);
  });
});

describe('the in-sandbox script', () => {
  test.for([
    { what: 'the default policy', ctx: CTX },
    {
      what: 'a policy with L7 rules',
      ctx: {
        ...CTX,
        l7: { host: 'a.example.com', port: 443, method: 'GET', path: "/x/'$(id)", why: 'r' },
      },
    },
  ])('with every attempt is valid POSIX sh ($what)', async ({ ctx }) => {
    const script = buildProveScript(ctx);
    await expect(run('sh', ['-n', '-c', script])).resolves.toMatchObject({ stderr: '' });
    for (const attempt of PROVE_ATTEMPTS) expect(script).toContain(`ID='${attempt.id}'`);
  });

  test('values quoted into it cannot break out (a path with quotes and $(...))', async () => {
    const spec: AttemptSpec = {
      id: 'quoting',
      category: 'test',
      attempt: 'quote',
      script: () => `r v ${"'"}$(printf x)${"'"}`,
      judge: () => blocked('landlock', ''),
    };
    const ctx = { ...CTX, probe: "/tmp/it's $(touch /tmp/nope)", scratch: '/tmp' };
    const { stdout } = await run('sh', ['-c', buildProveScript(ctx, [spec])]);
    expect(parseProveOutput(stdout).get('quoting')?.get('v')).toBe('$(printf x)');
  });

  test('reports round-trip through sh: multi-line values are joined, each attempt ends', async () => {
    const spec: AttemptSpec = {
      id: 'multi',
      category: 'test',
      attempt: 'multi-line',
      script: () => `r lines "$(printf 'first\\nsecond')"; r after ok; (exit 3); r rc $?`,
      judge: () => blocked('landlock', ''),
    };
    const { stdout } = await run('sh', ['-c', buildProveScript(CTX, [spec])]);
    const record = parseProveOutput(stdout).get('multi');
    expect(Object.fromEntries(record ?? [])).toEqual({
      lines: 'first second',
      after: 'ok',
      rc: '3',
      end: '1',
    });
  });
});

function policyFrom(yaml: string): Policy {
  const { policy, diagnostics } = parsePolicy(yaml, { file: 'test.yaml' });
  if (policy === undefined) throw new Error(JSON.stringify(diagnostics));
  return policy;
}

const RULES = policyFrom(`version: 1
network_policies:
  api:
    name: api
    endpoints:
      - host: api.example.com
        port: 443
        protocol: rest
        rules:
          - allow: { method: GET, path: "/repos/**" }
      - host: "*.example.org"
        port: 443
      - host: plain.example.com
        port: 80
    binaries:
      - path: /usr/bin/curl
  other_binary:
    name: git-only
    endpoints:
      - host: git.example.com
        port: 443
        access: read-only
    binaries:
      - path: /usr/bin/git
`);

describe('targets chosen from the policy', () => {
  test('the L7 trick escapes an allowed prefix with encoded dot segments, and the policy denies it', () => {
    expect(chooseL7Target(RULES)).toEqual({
      host: 'api.example.com',
      port: 443,
      method: 'GET',
      path: '/repos/%2e%2e/%2e%2e/openshell-prove-denied',
      why: 'L7 rules of "api"',
    });
  });

  test.for([
    { what: 'the default policy (no rules)', policy: DEFAULT_POLICY },
    {
      what: "an L7 endpoint curl may not use (another binary's)",
      policy: policyFrom(
        'version: 1\nnetwork_policies:\n  g:\n    endpoints:\n      - { host: git.example.com, port: 443, access: read-only }\n    binaries:\n      - path: /usr/bin/git\n',
      ),
    },
  ])('no L7 target with $what', ({ policy }) => {
    expect(chooseL7Target(policy)).toBeUndefined();
  });

  test('the credential goes to a concrete host curl may reach, else to a denied host', () => {
    expect(chooseCredentialTarget(RULES, 'denied.invalid')).toMatchObject({
      host: 'plain.example.com',
      port: 80,
    });
    expect(chooseCredentialTarget(DEFAULT_POLICY, 'denied.invalid')).toMatchObject({
      host: 'denied.invalid',
      port: 80,
      why: expect.stringContaining('L4 refuses it first'),
    });
  });

  test('Landlock coverage follows read_only, read_write and include_workdir', () => {
    expect(
      ['/etc/shadow', '/sandbox/x', '/usr', '/', '/run', '/etcetera'].map(CTX.landlockAllows),
    ).toEqual([true, true, true, false, false, false]);
  });
});

const outcome = (
  id: string,
  result: AttemptOutcome['result'],
  layer: AttemptOutcome['layer'],
  detail: string,
): AttemptOutcome => ({
  id,
  category: 'filesystem',
  attempt: `attempt ${id}`,
  result,
  layer,
  detail,
});

function reportOf(attempts: AttemptOutcome[]): ProveReport {
  return {
    sandbox: NAME,
    policy: 'weak.yaml',
    attempts,
    summary: summarizeAttempts(attempts),
    durationMs: 4321,
  };
}

describe('rendering and exit code', () => {
  const MIXED = reportOf([
    outcome('fs-read-shadow', 'blocked', 'uid/capabilities', '/etc/shadow: Permission denied'),
    outcome('fs-write-etc', 'not_blocked', 'namespaces/mount', 'wrote a file into /etc'),
    outcome('proxy-l7', 'skipped', null, 'no L7 rules in policy'),
    outcome('res-memory', 'error', 'cgroup memory', 'control failed'),
  ]);

  test('the table: one line per attempt, NOT BLOCKED in capitals, then the summary line', () => {
    expect(renderProveTable(MIXED)).toMatchInlineSnapshot(`
      "RESULT       ATTEMPT                 LAYER               DETAIL
      blocked      attempt fs-read-shadow  uid/capabilities    /etc/shadow: Permission denied
      NOT BLOCKED  attempt fs-write-etc    (namespaces/mount)  wrote a file into /etc
      skipped      attempt proxy-l7        -                   no L7 rules in policy
      error        attempt res-memory      (cgroup memory)     control failed

      1 NOT BLOCKED: 4 attempts, 1 blocked, 1 not blocked, 1 errors, 1 skipped (policy: weak.yaml, 4.3 s)
      "
    `);
  });

  test('the JSON document (the CI contract)', () => {
    expect(toProveDocument(MIXED)).toMatchInlineSnapshot(`
      {
        "attempts": [
          {
            "attempt": "attempt fs-read-shadow",
            "category": "filesystem",
            "detail": "/etc/shadow: Permission denied",
            "id": "fs-read-shadow",
            "layer": "uid/capabilities",
            "name": "fs-read-shadow",
            "result": "blocked",
          },
          {
            "attempt": "attempt fs-write-etc",
            "category": "filesystem",
            "detail": "wrote a file into /etc",
            "id": "fs-write-etc",
            "layer": "namespaces/mount",
            "name": "fs-write-etc",
            "result": "not_blocked",
          },
          {
            "attempt": "attempt proxy-l7",
            "category": "filesystem",
            "detail": "no L7 rules in policy",
            "id": "proxy-l7",
            "layer": null,
            "name": "proxy-l7",
            "result": "skipped",
          },
          {
            "attempt": "attempt res-memory",
            "category": "filesystem",
            "detail": "control failed",
            "id": "res-memory",
            "layer": "cgroup memory",
            "name": "res-memory",
            "result": "error",
          },
        ],
        "policy": "weak.yaml",
        "sandbox": "openshell-prove-abc123abc123",
        "summary": {
          "blocked": 1,
          "durationMs": 4321,
          "errors": 1,
          "notBlocked": 1,
          "skipped": 1,
          "total": 4,
        },
      }
    `);
  });

  test.for([
    {
      what: 'all blocked (skips allowed)',
      results: ['blocked', 'skipped'],
      exit: 0,
      line: /^every attempt was blocked: 2 attempts/,
    },
    {
      what: 'one NOT BLOCKED',
      results: ['blocked', 'not_blocked'],
      exit: 1,
      line: /^1 NOT BLOCKED: /,
    },
    {
      what: 'a void proof (failed control)',
      results: ['blocked', 'error'],
      exit: 1,
      line: /^proof incomplete: /,
    },
  ] as const)('exit $exit when $what', ({ results, exit, line }) => {
    const report = reportOf(results.map((r, i) => outcome(`a${String(i)}`, r, 'landlock', 'x')));
    expect(proveExitCode(report)).toBe(exit);
    expect(renderProveTable(report).trimEnd().split('\n').at(-1)).toMatch(line);
  });
});
