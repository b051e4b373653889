import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CANARY,
  SANDBOX_UID,
  spec,
  startAgent,
  type Agent,
  type ControlClient,
} from './harness.js';

let agent: Agent;
let client: ControlClient;
let counter = 0;
const nextId = (): string => `exec-${++counter}`;

beforeAll(async () => {
  agent = await startAgent();
  client = await agent.connect();
}, 20_000);

afterAll(async () => {
  client.close();
  await agent.stop();
  agent.cleanup();
});

describe('exec sessions through the real launcher (uid 10001)', () => {
  test.for([
    { name: 'success', argv: ['true'], exit: { code: 0, timedOut: false } },
    { name: 'exit code 3', argv: ['sh', '-c', 'exit 3'], exit: { code: 3, timedOut: false } },
    {
      name: 'killed by SIGKILL (137)',
      argv: ['sh', '-c', 'kill -KILL $$'],
      exit: { signal: 'SIGKILL', timedOut: false },
    },
    {
      name: 'command not found (launcher: 127)',
      argv: ['no-such-command-xyz'],
      exit: { code: 127, timedOut: false },
    },
  ])('$name', async ({ argv, exit }) => {
    const result = await client.exec(nextId(), spec(argv));
    expect(result.exit).toEqual(exit);
  });

  test('runs as the sandbox user, not as root', async () => {
    const result = await client.exec(nextId(), spec(['id', '-u']));
    expect(result.stdout.trim()).toBe(String(SANDBOX_UID));
  });

  test('stdin is piped in and EOF ends it', async () => {
    const result = await client.exec(nextId(), spec(['sh', '-c', 'tr a-z A-Z; echo "[eof]"']), {
      stdin: 'hello stdin\n',
    });
    expect(result.stdout).toBe('HELLO STDIN\n[eof]\n');
    expect(result.exit).toEqual({ code: 0, timedOut: false });
  });

  test('stdout and stderr stay separate', async () => {
    const result = await client.exec(
      nextId(),
      spec(['sh', '-c', 'echo to-out; echo to-err >&2; echo more-out']),
    );
    expect(result.stdout).toBe('to-out\nmore-out\n');
    expect(result.stderr).toBe('to-err\n');
  });

  test('environment is exactly the sandbox env plus the spec env; the agent env does not leak', async () => {
    const result = await client.exec(
      nextId(),
      spec(['env'], { env: { GITHUB_TOKEN: 'openshell:resolve:env:GITHUB_TOKEN' } }),
    );
    const env = Object.fromEntries(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(env).toEqual({
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: agent.home,
      OPENSHELL_SANDBOX: '1',
      GITHUB_TOKEN: 'openshell:resolve:env:GITHUB_TOKEN',
    });
    expect(result.stdout).not.toContain(CANARY);
  });

  test('the agent-managed variables win over the spec', async () => {
    const result = await client.exec(
      nextId(),
      spec(['sh', '-c', 'echo $OPENSHELL_SANDBOX $HOME'], {
        env: { OPENSHELL_SANDBOX: '0', HOME: '/root' },
      }),
    );
    expect(result.stdout).toBe(`1 ${agent.home}\n`);
  });

  test('workdir defaults to the sandbox home and can be set', async () => {
    const byDefault = await client.exec(nextId(), spec(['pwd']));
    const explicit = await client.exec(nextId(), spec(['pwd'], { workdir: '/tmp' }));
    expect(byDefault.stdout.trim()).toBe(agent.home);
    expect(explicit.stdout.trim()).toBe('/tmp');
  });

  test('Landlock from the policy applies: writes outside read_write fail, inside succeed', async () => {
    const inside = await client.exec(
      nextId(),
      spec(['sh', '-c', `echo ok > ${agent.home}/inside.txt && cat ${agent.home}/inside.txt`]),
    );
    const outside = await client.exec(
      nextId(),
      spec(['sh', '-c', 'echo x > /var/tmp/openshell-agent-test 2>&1; echo $?']),
    );
    expect(inside.stdout).toBe('ok\n');
    expect(outside.stdout.trim()).not.toBe('0');
  });

  test('timeout kills the process group and says so', async () => {
    const started = Date.now();
    const result = await client.exec(nextId(), spec(['sh', '-c', 'sleep 30; echo not-reached']), {
      timeoutMs: 300,
    });
    expect(result.exit).toEqual({ signal: 'SIGKILL', timedOut: true });
    expect(result.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('a signal input reaches the process (SIGTERM trapped by the shell)', async () => {
    const id = nextId();
    client.send({
      $case: 'exec',
      value: {
        sessionId: id,
        process: spec([
          'sh',
          '-c',
          'trap "echo got-term; exit 9" TERM; echo ready; while :; do sleep 0.05; done',
        ]),
      },
    });
    await client.waitFor(
      (e) => e.payload?.$case === 'sessionOutput' && e.payload.value.sessionId === id,
    );
    client.input(id, { $case: 'signal', value: 'SIGTERM' });
    const result = await client.finished(id);
    expect(result.stdout).toBe('ready\ngot-term\n');
    expect(result.exit).toEqual({ code: 9, timedOut: false });
  });

  test('cancel kills the process (137 convention: SIGKILL)', async () => {
    const id = nextId();
    client.send({ $case: 'exec', value: { sessionId: id, process: spec(['sleep', '30']) } });
    await client.waitFor(
      (e) => e.payload?.$case === 'sessionStarted' && e.payload.value.sessionId === id,
    );
    client.input(id, { $case: 'cancel', value: {} });
    expect((await client.finished(id)).exit).toEqual({ signal: 'SIGKILL', timedOut: false });
  });

  test('a spec naming another user is refused; the policy user is accepted', async () => {
    const refused = await client.exec(nextId(), spec(['id', '-u'], { user: '10002' }));
    const accepted = await client.exec(nextId(), spec(['id', '-u'], { user: 'sandbox' }));
    expect(refused.failed).toMatchObject({ code: 'ERR_POLICY_DENIED' });
    expect(refused.pid).toBeUndefined();
    expect(accepted.stdout.trim()).toBe(String(SANDBOX_UID));
  });

  test.for([
    { name: 'root by name', user: 'root' },
    { name: 'uid 0', user: '0' },
  ])('running as $name is refused', async ({ user }) => {
    const result = await client.exec(nextId(), spec(['id', '-u'], { user }));
    expect(result.failed).toMatchObject({ code: 'ERR_POLICY_INVALID' });
  });

  test('an empty argv is refused with ERR_USAGE', async () => {
    const result = await client.exec(nextId(), spec([]));
    expect(result.failed).toMatchObject({ code: 'ERR_USAGE' });
  });

  test('input for an unknown session is answered with ERR_SESSION_NOT_FOUND', async () => {
    client.input('no-such-session', { $case: 'data', value: Buffer.from('x') });
    const failure = await client.waitFor(
      (e) =>
        e.payload?.$case === 'sessionFailed' && e.payload.value.sessionId === 'no-such-session',
    );
    expect(failure.payload?.value).toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
  });

  test('a reused live session id is refused; the running session is untouched', async () => {
    const id = nextId();
    client.send({
      $case: 'exec',
      value: { sessionId: id, process: spec(['sh', '-c', 'read x; echo got $x']) },
    });
    await client.waitFor(
      (e) => e.payload?.$case === 'sessionStarted' && e.payload.value.sessionId === id,
    );
    client.send({ $case: 'exec', value: { sessionId: id, process: spec(['true']) } });
    await client.waitFor(
      (e) => e.payload?.$case === 'sessionFailed' && e.payload.value.sessionId === id,
    );
    client.input(id, { $case: 'data', value: Buffer.from('still-here\n') });
    const result = await client.finished(id);
    expect(result.failed).toMatchObject({ code: 'ERR_USAGE' });
    await client.waitFor(
      (e) => e.payload?.$case === 'processExited' && e.payload.value.sessionId === id,
    );
    expect(client.result(id).stdout).toBe('got still-here\n');
  });
});
