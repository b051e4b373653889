import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spec, startAgent, waitUntil, type Agent, type ControlClient } from './harness.js';

let agent: Agent;
let client: ControlClient;
let counter = 0;
const nextId = (prefix: string): string => `${prefix}-${++counter}`;
const CTRL_P = '\x10';
const CTRL_Q = '\x11';

beforeAll(async () => {
  agent = await startAgent();
  client = await agent.connect();
}, 20_000);

afterAll(async () => {
  client.close();
  await agent.stop();
  agent.cleanup();
});

function isAlive(pid: number): boolean {
  try {
    // State Z (zombie) counts as gone: the process ended, only its entry is left.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function outputContains(c: ControlClient, sessionId: string, text: string): Promise<void> {
  await waitUntil(
    () => c.result(sessionId).stdout.includes(text),
    10_000,
    () => `no ${JSON.stringify(text)} in ${JSON.stringify(c.result(sessionId).stdout)}`,
  );
}

describe('exec with a pseudo-terminal', () => {
  test('the terminal has the requested size and is the controlling tty', async () => {
    const result = await client.exec(
      nextId('pty'),
      spec(['sh', '-c', 'stty size; tty; test -t 0 && echo stdin-is-tty'], {
        tty: true,
        size: { rows: 33, cols: 101 },
      }),
    );
    expect(result.stdout).toMatch(/^33 101\r\n\/dev\/pts\/[0-9]+\r\nstdin-is-tty\r\n$/);
    expect(result.exit).toEqual({ code: 0, timedOut: false });
  });

  test('without tty, stdin is not a terminal (control)', async () => {
    const result = await client.exec(
      nextId('pipe'),
      spec(['sh', '-c', 'test -t 0 && echo tty || echo not-a-tty']),
    );
    expect(result.stdout).toBe('not-a-tty\n');
  });

  test('resize reaches the program before input typed after it', async () => {
    const id = nextId('resize');
    client.send({
      $case: 'exec',
      value: {
        sessionId: id,
        process: spec(['sh', '-c', 'stty size; read x; stty size'], {
          tty: true,
          size: { rows: 24, cols: 80 },
        }),
      },
    });
    await outputContains(client, id, '24 80');
    client.input(id, { $case: 'resize', value: { rows: 50, cols: 132 } });
    client.input(id, { $case: 'data', value: Buffer.from('go\r') });
    const result = await client.finished(id);
    expect(result.stdout).toContain('50 132');
    expect(result.exit).toEqual({ code: 0, timedOut: false });
  });

  test('SIGWINCH-driven programs see the new size (trap on WINCH)', async () => {
    const id = nextId('winch');
    client.send({
      $case: 'exec',
      value: {
        sessionId: id,
        process: spec(
          [
            'bash',
            '-c',
            'trap "stty size; exit 0" WINCH; echo ready; while :; do sleep 0.05; done',
          ],
          { tty: true },
        ),
      },
    });
    await outputContains(client, id, 'ready');
    client.input(id, { $case: 'resize', value: { rows: 40, cols: 100 } });
    const result = await client.finished(id);
    expect(result.stdout).toContain('40 100');
  });

  test('stdin EOF on a terminal ends `cat`', async () => {
    const id = nextId('eof');
    client.send({ $case: 'exec', value: { sessionId: id, process: spec(['cat'], { tty: true }) } });
    await client.waitFor(
      (e) => e.payload?.$case === 'sessionStarted' && e.payload.value.sessionId === id,
    );
    client.input(id, { $case: 'data', value: Buffer.from('abc\r') });
    client.input(id, { $case: 'eof', value: {} });
    const result = await client.finished(id);
    expect(result.stdout).toContain('abc');
    expect(result.exit).toEqual({ code: 0, timedOut: false });
  });
});

describe('connect: a shell that survives detach', () => {
  test('Ctrl-P Ctrl-Q detaches; attach_to sees the same shell', async () => {
    const id = nextId('shell');
    client.send({
      $case: 'connect',
      value: { sessionId: id, process: spec(['sh', '-i'], { tty: true }) },
    });
    const started = await client.waitFor(
      (e) => e.payload?.$case === 'sessionStarted' && e.payload.value.sessionId === id,
    );
    const pid = (started.payload?.value as { pid: number }).pid;
    client.input(id, { $case: 'data', value: Buffer.from('MARK=21; echo set-$((MARK+0))\r') });
    await outputContains(client, id, 'set-21');
    client.input(id, { $case: 'data', value: Buffer.from(`${CTRL_P}${CTRL_Q}`) });
    // After the detach the attachment is gone: input to it is refused, the shell lives on.
    await waitUntil(
      () => {
        client.input(id, { $case: 'data', value: Buffer.from('') });
        return client.events.some(
          (e) => e.payload?.$case === 'sessionFailed' && e.payload.value.sessionId === id,
        );
      },
      5000,
      () => 'detach did not take effect',
    );
    expect(client.result(id).failed).toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
    expect(isAlive(pid)).toBe(true);

    const second = await agent.connect();
    const back = nextId('attach');
    second.send({ $case: 'connect', value: { sessionId: back, attachTo: id } });
    const reattached = await second.waitFor(
      (e) => e.payload?.$case === 'sessionStarted' && e.payload.value.sessionId === back,
    );
    expect(reattached.payload?.value).toMatchObject({ pid });
    second.input(back, { $case: 'data', value: Buffer.from('echo again-$((MARK*2))\r') });
    await outputContains(second, back, 'again-42');

    second.input(back, { $case: 'data', value: Buffer.from('exit 4\r') });
    const result = await second.finished(back);
    expect(result.exit).toEqual({ code: 4, timedOut: false });
    second.close();
  });

  test('a lone Ctrl-P is passed on with the next byte (no detach)', async () => {
    const shell = nextId('shell');
    client.send({
      $case: 'connect',
      value: {
        sessionId: shell,
        process: spec(['sh', '-c', 'stty raw -echo; head -c 3 | od -An -tx1'], { tty: true }),
      },
    });
    await client.waitFor(
      (e) => e.payload?.$case === 'sessionStarted' && e.payload.value.sessionId === shell,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.input(shell, { $case: 'data', value: Buffer.from(CTRL_P) });
    client.input(shell, { $case: 'data', value: Buffer.from('ab') });
    const result = await client.finished(shell);
    expect(result.stdout).toContain('10 61 62');
  });

  test('closing the client without detaching kills the shell', async () => {
    const other = await agent.connect();
    const id = nextId('shell');
    other.send({
      $case: 'connect',
      value: { sessionId: id, process: spec(['sh', '-i'], { tty: true }) },
    });
    const started = await other.waitFor(
      (e) => e.payload?.$case === 'sessionStarted' && e.payload.value.sessionId === id,
    );
    const pid = (started.payload?.value as { pid: number }).pid;
    expect(isAlive(pid)).toBe(true);
    other.close();
    await waitUntil(
      () => !isAlive(pid),
      5000,
      () => `shell ${pid} survived its client\n${agent.stderr()}`,
    );
  });

  test('a detached shell survives its client closing (control for the test above)', async () => {
    const other = await agent.connect();
    const id = nextId('shell');
    other.send({
      $case: 'connect',
      value: { sessionId: id, process: spec(['sh', '-i'], { tty: true }) },
    });
    const started = await other.waitFor(
      (e) => e.payload?.$case === 'sessionStarted' && e.payload.value.sessionId === id,
    );
    const pid = (started.payload?.value as { pid: number }).pid;
    other.input(id, { $case: 'detach', value: {} });
    await new Promise((resolve) => setTimeout(resolve, 100));
    other.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(isAlive(pid)).toBe(true);
    const back = nextId('attach');
    client.send({ $case: 'connect', value: { sessionId: back, attachTo: id } });
    await client.waitFor(
      (e) => e.payload?.$case === 'sessionStarted' && e.payload.value.sessionId === back,
    );
    client.input(back, { $case: 'data', value: Buffer.from('exit 0\r') });
    expect((await client.finished(back)).exit).toEqual({ code: 0, timedOut: false });
  });

  test('attaching to an unknown shell fails; attaching twice is refused', async () => {
    client.send({ $case: 'connect', value: { sessionId: nextId('x'), attachTo: 'nope' } });
    const missing = await client.waitFor(
      (e) => e.payload?.$case === 'sessionFailed' && e.payload.value.message.includes('"nope"'),
    );
    expect(missing.payload?.value).toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });

    const id = nextId('shell');
    client.send({
      $case: 'connect',
      value: { sessionId: id, process: spec(['sh', '-i'], { tty: true }) },
    });
    await client.waitFor(
      (e) => e.payload?.$case === 'sessionStarted' && e.payload.value.sessionId === id,
    );
    const intruder = nextId('attach');
    client.send({ $case: 'connect', value: { sessionId: intruder, attachTo: id } });
    expect((await client.finished(intruder)).failed).toMatchObject({ code: 'ERR_CONFLICT' });
    client.input(id, { $case: 'data', value: Buffer.from('exit 0\r') });
    expect((await client.finished(id)).exit).toEqual({ code: 0, timedOut: false });
  });
});
