// The gateway's streaming RPCs against a real daemon: watch, connect (PTY, detach, re-attach),
// upload/download, follow logs, policy update and --wait timing out while the proxy is frozen.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  PolicyStatus,
  SandboxPhase,
  WatchEventType,
  type ConnectResponse,
  type FollowLogsResponse,
  type WatchSandboxesResponse,
} from '@openshell/proto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createSandbox, execIn, waitPhase } from './helpers/sandbox-calls.js';
import { createTestDaemon, grpcDetails, type TestDaemon } from './helpers/test-daemon.js';

const run = promisify(execFile);
const NAMES = {
  prefix: 'gws',
  serviceAddress: '10.239.22.1',
  pool: '10.239.23.0/24',
  uidBase: 239_230,
};

let daemon: TestDaemon;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp('/var/tmp/openshell-gws-');
  daemon = await createTestDaemon(NAMES);
  await daemon.start();
  await createSandbox(daemon, { name: 'work' });
  await waitPhase(daemon, 'work', SandboxPhase.SANDBOX_PHASE_READY);
}, 60_000);

afterAll(async () => {
  await daemon.cleanup();
  await rm(scratch, { recursive: true, force: true });
}, 60_000);

/** Collects messages of a server stream until `done` says so (or the timeout). */
function collect<T>(
  stream: NodeJS.EventEmitter & { cancel(): void },
  done: (seen: T[]) => boolean,
  timeoutMs = 20_000,
): Promise<T[]> {
  const seen: T[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.cancel();
      reject(new Error(`stream did not finish; saw ${JSON.stringify(seen).slice(0, 2000)}`));
    }, timeoutMs);
    stream.on('data', (message: T) => {
      seen.push(message);
      if (done(seen)) {
        clearTimeout(timer);
        stream.cancel();
        resolve(seen);
      }
    });
    stream.on('error', (error: Error & { code?: number }) => {
      // CANCELLED is our own cancel() after resolving.
      if (error.code !== 1) reject(error);
    });
  });
}

describe('watch', () => {
  test('the snapshot, SYNCED, then the new sandbox ADDED → Ready → DELETED, without polling', async () => {
    const stream = daemon.client().watchSandboxes({ labelSelector: {}, includeInitial: true });
    const events = collect<WatchSandboxesResponse>(stream, (seen) =>
      seen.some(
        (e) => e.type === WatchEventType.WATCH_EVENT_TYPE_DELETED && e.sandbox?.name === 'watched',
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    await createSandbox(daemon, { name: 'watched' });
    await waitPhase(daemon, 'watched', SandboxPhase.SANDBOX_PHASE_READY);
    await daemon.call('deleteSandbox', { sandbox: 'watched' });
    const seen = await events;
    const kinds = seen.map(
      (e) => `${String(e.type)}:${e.sandbox?.name ?? ''}:${String(e.sandbox?.phase ?? '')}`,
    );
    expect(kinds[0]).toBe(
      `${String(WatchEventType.WATCH_EVENT_TYPE_ADDED)}:work:${String(SandboxPhase.SANDBOX_PHASE_READY)}`,
    );
    expect(kinds).toContain(`${String(WatchEventType.WATCH_EVENT_TYPE_SYNCED)}::`);
    expect(kinds).toContain(
      `${String(WatchEventType.WATCH_EVENT_TYPE_ADDED)}:watched:${String(SandboxPhase.SANDBOX_PHASE_PROVISIONING)}`,
    );
    expect(kinds).toContain(
      `${String(WatchEventType.WATCH_EVENT_TYPE_UPDATED)}:watched:${String(SandboxPhase.SANDBOX_PHASE_READY)}`,
    );
  });
});

describe('decision counts', () => {
  test('a deny reaches watchers as an UPDATED sandbox with its denied count (coalesced)', async () => {
    const stream = daemon.client().watchSandboxes({ labelSelector: {}, includeInitial: true });
    const before = await new Promise<number>((resolve, reject) => {
      stream.once('data', (event: WatchSandboxesResponse) =>
        resolve(Number(event.sandbox?.decisions?.denied ?? 0)),
      );
      stream.once('error', reject);
    });
    const seen = collect<WatchSandboxesResponse>(stream, (events) =>
      events.some(
        (e) =>
          e.type === WatchEventType.WATCH_EVENT_TYPE_UPDATED &&
          e.sandbox?.name === 'work' &&
          Number(e.sandbox.decisions?.denied ?? 0) > before,
      ),
    );
    await execIn(daemon, 'work', [
      '/usr/bin/curl',
      '-sS',
      '--max-time',
      '5',
      'https://counted.example.org/',
    ]);
    expect((await seen).length).toBeGreaterThan(0);
  });
});

describe('connect', () => {
  test('a PTY shell answers, detaches without dying, and re-attaches by id', async () => {
    const first = daemon.client().connect();
    let output = '';
    let sessionId = '';
    const started = new Promise<void>((resolve, reject) => {
      first.on('data', (message: ConnectResponse) => {
        const payload = message.payload;
        if (payload?.$case === 'started') {
          sessionId = payload.value.sessionId;
          resolve();
        }
        if (payload?.$case === 'output') output += Buffer.from(payload.value).toString();
      });
      first.on('error', reject);
    });
    first.write({
      payload: {
        $case: 'start',
        value: { sandbox: 'work', argv: ['/bin/sh'], env: {}, size: { rows: 24, cols: 80 } },
      },
    });
    await started;
    first.write({ payload: { $case: 'input', value: Buffer.from('echo marker-$((6*7)); tty\n') } });
    for (let i = 0; i < 100 && !/\/dev\/pts\/\d+/.test(output); i += 1)
      await new Promise((r) => setTimeout(r, 50));
    expect(output).toContain('marker-42');
    expect(output).toMatch(/\/dev\/pts\/\d+/);
    const detached = new Promise<string>((resolve) => {
      first.on('data', (message: ConnectResponse) => {
        if (message.payload?.$case === 'detached') resolve(message.payload.value.sessionId);
      });
    });
    first.write({ payload: { $case: 'detach', value: {} } });
    expect(await detached).toBe(sessionId);

    const second = daemon.client().connect();
    let again = '';
    const ended = new Promise<{ reattached: boolean; code: number | undefined }>(
      (resolve, reject) => {
        let reattached = false;
        second.on('data', (message: ConnectResponse) => {
          const payload = message.payload;
          if (payload?.$case === 'started') reattached = payload.value.reattached;
          if (payload?.$case === 'output') again += Buffer.from(payload.value).toString();
          if (payload?.$case === 'exit') resolve({ reattached, code: payload.value.code });
        });
        second.on('error', reject);
      },
    );
    second.write({
      payload: { $case: 'start', value: { sandbox: 'work', argv: [], env: {}, sessionId } },
    });
    await new Promise((r) => setTimeout(r, 300));
    second.write({
      payload: { $case: 'input', value: Buffer.from('echo back-$((2*21)); exit 3\n') },
    });
    const result = await ended;
    expect(result).toEqual({ reattached: true, code: 3 });
    expect(again).toContain('back-42');
  });

  test('re-attaching to an unknown session is refused (positive control above)', async () => {
    const stream = daemon.client().connect();
    const failure = new Promise<unknown>((resolve) => stream.on('error', resolve));
    stream.write({
      payload: {
        $case: 'start',
        value: { sandbox: 'work', argv: [], env: {}, sessionId: 'no-such-session' },
      },
    });
    expect(grpcDetails(await failure).openshellCode).toBe('ERR_SESSION_NOT_FOUND');
  });
});

describe('upload and download', () => {
  function upload(
    tar: Buffer,
    dest: string,
  ): Promise<{ bytesReceived: number; entriesWritten: number }> {
    return new Promise((resolve, reject) => {
      const stream = daemon
        .client()
        .upload((error, response) => (error ? reject(error) : resolve(response)));
      stream.write({ payload: { $case: 'header', value: { sandbox: 'work', dest } } });
      for (let offset = 0; offset < tar.length; offset += 16_384) {
        stream.write({ payload: { $case: 'chunk', value: tar.subarray(offset, offset + 16_384) } });
      }
      stream.end();
    });
  }

  test('a directory round-trips through the sandbox as the sandbox user', async () => {
    const source = join(scratch, 'src');
    await mkdir(join(source, 'nested'), { recursive: true });
    await writeFile(join(source, 'a.txt'), 'alpha\n');
    await writeFile(join(source, 'nested', 'b.bin'), Buffer.alloc(100_000, 7));
    const tar = (
      await run('tar', ['-c', '-C', source, '.'], { encoding: 'buffer', maxBuffer: 1 << 24 })
    ).stdout;
    const result = await upload(tar, '/sandbox/up');
    expect(result.entriesWritten).toBeGreaterThanOrEqual(3);
    const listed = await execIn(daemon, 'work', [
      'sh',
      '-c',
      'cd /sandbox/up && stat -c "%U %n" a.txt nested/b.bin && cat a.txt',
    ]);
    expect(listed.stdout).toBe('sandbox a.txt\nsandbox nested/b.bin\nalpha\n');

    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = daemon.client().download({ sandbox: 'work', path: '/sandbox/up' });
      stream.on('data', (message: { chunk: Uint8Array }) =>
        chunks.push(Buffer.from(message.chunk)),
      );
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    const out = join(scratch, 'out');
    await mkdir(out);
    await writeFile(join(scratch, 'down.tar'), Buffer.concat(chunks));
    await run('tar', ['-x', '-f', join(scratch, 'down.tar'), '-C', out]);
    const top = await readdir(out);
    const root = join(out, top[0] ?? '');
    expect(await readFile(join(root, 'a.txt'), 'utf8')).toBe('alpha\n');
    expect((await readFile(join(root, 'nested', 'b.bin'))).equals(Buffer.alloc(100_000, 7))).toBe(
      true,
    );
  });

  test('a tar entry escaping the destination is refused and nothing lands outside it', async () => {
    const dir = join(scratch, 'evil');
    await mkdir(join(dir, 'inner'), { recursive: true });
    await writeFile(join(dir, 'escaped.txt'), 'owned');
    const tar = (
      await run('tar', ['-c', '-C', join(dir, 'inner'), '--absolute-names', '../escaped.txt'], {
        encoding: 'buffer',
      })
    ).stdout;
    const error = await upload(tar, '/sandbox/jail').catch((e: unknown) => e);
    expect(grpcDetails(error).openshellCode).toBe('ERR_TRANSFER_REFUSED');
    const check = await execIn(daemon, 'work', [
      'sh',
      '-c',
      'test -e /sandbox/escaped.txt && echo present || echo absent',
    ]);
    expect(check.stdout).toBe('absent\n');
  });
});

describe('policy update and wait', () => {
  test('update --dry-run shows the result without storing; update stores one revision', async () => {
    const op = {
      op: {
        $case: 'addEndpoint',
        value: { host: 'example.com', port: 443, access: 'read-only', binaries: ['/usr/bin/curl'] },
      },
    };
    const dry = await daemon.call<{ yaml: string; revision: { version: number } }>('updatePolicy', {
      sandbox: 'work',
      operations: [op],
      dryRun: true,
      wait: false,
    });
    expect(dry.yaml).toContain('example.com');
    const before = await daemon.call<{ revisions: unknown[] }>('listPolicyRevisions', {
      sandbox: 'work',
    });
    expect(before.revisions).toHaveLength(1);
    const real = await daemon.call<{ revision: { version: number; status: PolicyStatus } }>(
      'updatePolicy',
      {
        sandbox: 'work',
        operations: [op],
        dryRun: false,
        wait: true,
        timeoutMs: 20_000,
      },
    );
    expect(real.revision).toMatchObject({ version: 2, status: PolicyStatus.POLICY_STATUS_LOADED });
  });

  test('--wait times out (Pending, proxy not acked) while the proxy is frozen, then loads when it resumes', async () => {
    const proxyPid = Number(
      (await readFile(join(daemon.paths.proxyDir, 'proxy.pid'), 'utf8')).trim(),
    );
    process.kill(proxyPid, 'SIGSTOP');
    try {
      const set = await daemon.call<{
        waitTimedOut: boolean;
        revision: {
          version: number;
          status: PolicyStatus;
          proxyAckedAtMs?: number;
          agentAckedAtMs?: number;
        };
      }>('setPolicy', { sandbox: 'work', yaml: 'version: 1\n', wait: true, timeoutMs: 1500 });
      expect(set.waitTimedOut).toBe(true);
      expect(set.revision.status).toBe(PolicyStatus.POLICY_STATUS_PENDING);
      expect(set.revision.agentAckedAtMs).toBeGreaterThan(0);
      expect(set.revision.proxyAckedAtMs).toBeUndefined();
      process.kill(proxyPid, 'SIGCONT');
      const waited = await daemon.call<{ timedOut: boolean; revision: { status: PolicyStatus } }>(
        'waitPolicy',
        {
          sandbox: 'work',
          version: set.revision.version,
          timeoutMs: 15_000,
        },
      );
      expect(waited).toMatchObject({
        timedOut: false,
        revision: { status: PolicyStatus.POLICY_STATUS_LOADED },
      });
    } finally {
      process.kill(proxyPid, 'SIGCONT');
    }
  });
});

describe('follow logs and exec timeout', () => {
  test('FollowLogs sends the backlog, then a deny as it happens', async () => {
    const stream = daemon
      .client()
      .followLogs({ filter: { sandbox: 'work', sources: [], limit: 5 } });
    const seen = collect<FollowLogsResponse>(stream, (all) =>
      all.some(
        (m) =>
          m.entry?.event?.$case === 'decision' && m.entry.event.value.host === 'follow.example.org',
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    await execIn(daemon, 'work', [
      '/usr/bin/curl',
      '-sS',
      '--max-time',
      '5',
      'https://follow.example.org/',
    ]);
    const entries = await seen;
    expect(entries.length).toBeGreaterThan(1);
  });

  test('an exec timeout kills the command and reports timed_out', async () => {
    const stream = daemon.client().exec();
    const exit = new Promise<{ timedOut: boolean }>((resolve, reject) => {
      stream.on('data', (message: { payload?: { $case: string; value: unknown } }) => {
        if (message.payload?.$case === 'exit')
          resolve(message.payload.value as { timedOut: boolean });
      });
      stream.on('error', reject);
    });
    const t0 = Date.now();
    stream.write({
      payload: {
        $case: 'start',
        value: { sandbox: 'work', argv: ['sleep', '30'], env: {}, tty: false, timeoutMs: 500 },
      },
    });
    expect(await exit).toMatchObject({ timedOut: true });
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
