import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { hashPolicy, parsePolicy } from '@openshell/policy-schema';
import { afterEach, describe, expect, test } from 'vitest';
import { spec, startAgent, testPolicy, waitUntil, type Agent } from './harness.js';

const agents: Agent[] = [];
async function start(options: Parameters<typeof startAgent>[0]): Promise<Agent> {
  const agent = await startAgent(options);
  agents.push(agent);
  return agent;
}

afterEach(async () => {
  for (const agent of agents.splice(0)) {
    await agent.stop('SIGKILL');
    agent.cleanup();
  }
});

function zombieChildrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^[0-9]+$/.test(name))
    .filter((name) => {
      try {
        const status = readFileSync(`/proc/${name}/status`, 'utf8');
        return /^State:\s+Z/m.test(status) && new RegExp(`^PPid:\\s+${pid}$`, 'm').test(status);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('main process', () => {
  test('its exit is reported with main=true, also to a client that connects later', async () => {
    const agent = await start({ main: ['sh', '-c', 'exit 7'] });
    await waitUntil(
      () => agent.stderr().includes('main process exited'),
      10_000,
      () => agent.stderr(),
    );
    const client = await agent.connect();
    const exited = await client.waitFor(
      (e) => e.payload?.$case === 'processExited' && e.payload.value.main,
    );
    expect(exited.payload?.value).toMatchObject({ main: true, exit: { code: 7, timedOut: false } });
    expect((exited.payload?.value as { sessionId?: string }).sessionId).toBeUndefined();
    client.close();
  }, 20_000);

  test.for([
    { name: 'on pipes', tty: false, output: 'banner\ngot-hi\n' },
    // On a terminal the line discipline echoes the input and turns \n into \r\n.
    { name: 'on a terminal', tty: true, output: 'banner\r\nhi\r\ngot-hi\r\n' },
  ])(
    'attach_to "main" $name replays the output nobody saw and relays stdin',
    { timeout: 20_000 },
    async ({ tty, output }) => {
      const agent = await start({
        main: ['sh', '-c', 'echo banner; read x; echo got-$x; exit 5'],
        mainTty: tty,
      });
      const client = await agent.connect();
      client.send({ $case: 'connect', value: { sessionId: 'view', attachTo: 'main' } });
      await waitUntil(
        () => client.result('view').stdout.includes('banner'),
        10_000,
        () => JSON.stringify(client.result('view')),
      );
      client.input('view', { $case: 'data', value: Buffer.from('hi\n') });
      const exited = await client.waitFor(
        (e) => e.payload?.$case === 'processExited' && e.payload.value.main,
      );
      expect(client.result('view').stdout).toBe(output);
      expect(exited.payload?.value).toMatchObject({ exit: { code: 5 } });
      client.close();
    },
  );

  test.for<{ signal: NodeJS.Signals; trap: string; code: number }>([
    { signal: 'SIGTERM', trap: 'TERM', code: 143 },
    { signal: 'SIGINT', trap: 'INT', code: 130 },
  ])(
    '$signal to the agent is forwarded to the main process; the agent exits with its code',
    { timeout: 20_000 },
    async ({ signal, trap, code }) => {
      const agent = await start({
        main: [
          'sh',
          '-c',
          `trap 'echo got > "$HOME/got-${trap}"; exit ${code}' ${trap}; echo ready; while :; do sleep 0.05; done`,
        ],
      });
      const client = await agent.connect();
      client.send({ $case: 'connect', value: { sessionId: 'view', attachTo: 'main' } });
      await waitUntil(
        () => client.result('view').stdout.includes('ready'),
        10_000,
        () => agent.stderr(),
      );
      client.send({
        $case: 'exec',
        value: { sessionId: 'bystander', process: spec(['sleep', '60']) },
      });
      const started = await client.waitFor(
        (e) => e.payload?.$case === 'sessionStarted' && e.payload.value.sessionId === 'bystander',
      );
      const bystander = (started.payload?.value as { pid: number }).pid;
      const exit = await agent.stop(signal);
      expect(exit).toEqual({ code, signal: null });
      expect(existsSync(join(agent.home, `got-${trap}`))).toBe(true);
      expect(existsSync(`/proc/${bystander}`)).toBe(false);
      client.close();
    },
  );
});

describe('start failure and shutdown', () => {
  test('a main process that cannot start is reported as never started, with the reason', async () => {
    const agent = await start({ main: ['id'], mainUser: '10002' });
    const client = await agent.connect();
    const exited = await client.waitFor((e) => e.payload?.$case === 'processExited');
    expect(exited.payload?.value).toMatchObject({ pid: 0, main: true, exit: { timedOut: false } });
    expect(exited.payload?.value).toMatchObject({ exit: { code: undefined, signal: undefined } });
    expect(client.result('main').failed).toMatchObject({ code: 'ERR_POLICY_DENIED' });
    client.close();
  }, 20_000);

  test('Shutdown stops the main process and sessions, then the agent exits', async () => {
    const agent = await start({ main: ['sleep', '600'] });
    const client = await agent.connect();
    client.send({ $case: 'exec', value: { sessionId: 'long', process: spec(['sleep', '600']) } });
    await client.waitFor((e) => e.payload?.$case === 'sessionStarted');
    const exitedAgent = new Promise((resolve) =>
      agent.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    client.send({ $case: 'shutdown', value: { gracePeriodMs: 2000 } });
    const main = await client.waitFor(
      (e) => e.payload?.$case === 'processExited' && e.payload.value.main,
    );
    expect(main.payload?.value).toMatchObject({ exit: { signal: 'SIGTERM' } });
    expect((await client.finished('long')).exit).toMatchObject({ signal: 'SIGTERM' });
    // The agent's own code follows its main process (128 + SIGTERM).
    expect(await exitedAgent).toEqual({ code: 143, signal: null });
    client.close();
  }, 20_000);
});

describe('policy pushes', () => {
  test('a new revision is acked with its hash; static changes, stale versions and bad hashes are refused', async () => {
    const agent = await start({});
    const client = await agent.connect();
    const dynamic = `${testPolicy(agent.home)}network_policies:
  github:
    name: github
    endpoints: [{ host: api.github.com, port: 443 }]
    binaries: [{ path: /usr/bin/curl }]
`;
    const parsed = parsePolicy(dynamic).policy;
    if (parsed === undefined) throw new Error('test policy does not parse');
    const push = (version: number, yaml: string, hash = ''): void =>
      client.send({ $case: 'policyPush', value: { version, hash, yaml } });
    const ackFor = async (version: number, index: number) => {
      await waitUntil(
        () => client.events.filter((e) => e.payload?.$case === 'policyAck').length > index,
        5000,
        () => 'no ack',
      );
      const ack = client.events.filter((e) => e.payload?.$case === 'policyAck')[index]?.payload
        ?.value;
      expect(ack).toMatchObject({ sandboxId: 'test', version });
      return ack as { ok: boolean; hash: string; error?: string };
    };

    push(2, dynamic, hashPolicy(parsed));
    expect(await ackFor(2, 0)).toMatchObject({ ok: true, hash: hashPolicy(parsed) });

    push(3, testPolicy(`${agent.home}/elsewhere`));
    const staticChange = await ackFor(3, 1);
    expect(staticChange.ok).toBe(false);
    expect(staticChange.error).toContain('filesystem_policy');

    push(1, dynamic);
    expect(await ackFor(1, 2)).toMatchObject({ ok: false });

    push(4, dynamic, 'f'.repeat(64));
    expect((await ackFor(4, 3)).error).toContain('hash');

    push(5, 'version: 1\nfilesystem_policy: [');
    expect((await ackFor(5, 4)).error).toContain('invalid');

    const fresh = await agent.connect();
    const hello = fresh.events.find((e) => e.payload?.$case === 'hello');
    expect(hello?.payload?.value).toMatchObject({ policyVersion: 2 });
    fresh.close();
    client.close();
  }, 20_000);
});

describe('reaping', () => {
  test('children the agent started never stay zombies (orphans, kills, terminals, transfers)', async () => {
    const agent = await start({});
    const client = await agent.connect();
    await client.exec('orphan', spec(['sh', '-c', 'sleep 0.2 & echo left-behind']));
    await client.exec('killed', spec(['sleep', '30']), { timeoutMs: 50 });
    await client.exec('tty', spec(['sh', '-c', 'stty size'], { tty: true }));
    client.send({
      $case: 'exec',
      value: { sessionId: 'resized', process: spec(['sh', '-c', 'read x'], { tty: true }) },
    });
    client.input('resized', { $case: 'resize', value: { rows: 10, cols: 10 } });
    client.input('resized', { $case: 'data', value: Buffer.from('\r') });
    await client.finished('resized');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const pid = agent.child.pid ?? 0;
    expect(zombieChildrenOf(pid)).toEqual([]);
    client.close();
  }, 20_000);

  test('under bubblewrap (the production layout) orphans are reaped by its init, not left as zombies', async () => {
    const agent = await start({
      wrap: [
        'bwrap',
        '--dev-bind',
        '/',
        '/',
        '--unshare-pid',
        '--proc',
        '/proc',
        '--die-with-parent',
        '--',
      ],
    });
    const client = await agent.connect();
    const hello = client.events.find((e) => e.payload?.$case === 'hello');
    // bwrap's init is PID 1, the agent PID 2, so the main process has a small pid.
    expect((hello?.payload?.value as { mainPid: number }).mainPid).toBeLessThan(100);
    await client.exec('orphan', spec(['sh', '-c', 'sleep 0.2 & echo left-behind']));
    await new Promise((resolve) => setTimeout(resolve, 600));
    const scan = await client.exec(
      'scan',
      spec(['sh', '-c', 'grep -l "^State:.Z" /proc/[0-9]*/status; echo scanned']),
    );
    expect(scan.stdout).toBe('scanned\n');
    client.close();
  }, 20_000);
});

describe('identity queries', () => {
  test('a connection is traced to its binary and ancestors by local port and by socket inode', async () => {
    const { createServer } = await import('node:net');
    const ports: number[] = [];
    const server = createServer((socket) => {
      ports.push(socket.remotePort ?? 0);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const agent = await start({});
    const client = await agent.connect();
    const connector = `exec 3<>/dev/tcp/127.0.0.1/${port}; read -t 5 line <&3`;
    client.send({
      $case: 'exec',
      value: { sessionId: 'single', process: spec(['sh', '-c', `bash -c '${connector}'; true`]) },
    });
    await waitUntil(
      () => ports.length === 1,
      5000,
      () => 'no connection',
    );
    const query = (
      queryId: number,
      key: { $case: 'localPort'; value: number } | { $case: 'socketInode'; value: number },
    ) => {
      client.send({ $case: 'identityQuery', value: { queryId, key } });
      return client.waitFor(
        (e) => e.payload?.$case === 'identityAnswer' && e.payload.value.queryId === queryId,
      );
    };
    const byPort = (await query(1, { $case: 'localPort', value: ports[0] ?? 0 })).payload
      ?.value as { pid: number };
    expect(byPort).toMatchObject({
      found: true,
      binary: '/usr/bin/bash',
      ancestors: ['/usr/bin/dash'],
    });
    const inode = Number(/socket:\[([0-9]+)\]/.exec(readlinkSync(`/proc/${byPort.pid}/fd/3`))?.[1]);
    const byInode = (await query(2, { $case: 'socketInode', value: inode })).payload?.value;
    expect(byInode).toEqual({ ...byPort, queryId: 2 });

    // Shared by two processes (inherited across fork): ambiguous, so not found.
    client.send({
      $case: 'exec',
      value: {
        sessionId: 'shared',
        process: spec([
          'bash',
          '-c',
          `exec 3<>/dev/tcp/127.0.0.1/${port}; sleep 5 & read -t 5 line <&3`,
        ]),
      },
    });
    await waitUntil(
      () => ports.length === 2,
      5000,
      () => 'no second connection',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(
      (await query(3, { $case: 'localPort', value: ports[1] ?? 0 })).payload?.value,
    ).toMatchObject({ found: false });
    expect((await query(4, { $case: 'localPort', value: 1 })).payload?.value).toMatchObject({
      found: false,
      ancestors: [],
    });

    // On a terminal the command's parent is the pty helper, which is the agent's, not an ancestor.
    client.send({
      $case: 'exec',
      value: { sessionId: 'tty', process: spec(['bash', '-c', connector], { tty: true }) },
    });
    await waitUntil(
      () => ports.length === 3,
      5000,
      () => 'no third connection',
    );
    expect(
      (await query(5, { $case: 'localPort', value: ports[2] ?? 0 })).payload?.value,
    ).toMatchObject({
      found: true,
      binary: '/usr/bin/bash',
      ancestors: [],
    });
    client.close();
    server.close();
  }, 20_000);
});
