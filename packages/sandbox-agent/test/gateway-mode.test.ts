import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AgentHello, SessionRequest, SessionResponse } from '@openshell/proto';
import { afterEach, describe, expect, test } from 'vitest';
import { AGENT_BIN, SANDBOX_UID, assertBuilt, spec, testPolicy, waitUntil } from './harness.js';
import { startFakeGateway } from './fake-gateway.js';

const TOKEN = 'sbx-token-5f1c0d2e';
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

interface GatewayAgent {
  readonly child: ChildProcess;
  readonly home: string;
  stderr(): string;
}

/** Starts the built agent in gateway mode; the token goes down fd 3, never argv or env. */
function startGatewayAgent(port: number, token = TOKEN, gatewayCa?: string): GatewayAgent {
  assertBuilt();
  const dir = mkdtempSync('/tmp/osa-gw-');
  chmodSync(dir, 0o755);
  const home = join(dir, 'home');
  mkdirSync(home);
  chownSync(home, SANDBOX_UID, SANDBOX_UID);
  const child = spawn(
    process.execPath,
    [
      AGENT_BIN,
      ...[
        '--gateway',
        `127.0.0.1:${port}`,
        '--sandbox-id',
        'sb-1',
        '--token-fd',
        '3',
        '--home',
        home,
      ],
      ...(gatewayCa === undefined ? ['--insecure'] : ['--gateway-ca', gatewayCa]),
    ],
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    },
  );
  const tokenPipe = child.stdio[3] as NodeJS.WritableStream;
  tokenPipe.end(`${token}\n`);
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
  cleanups.push(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return { child, home, stderr: () => stderr };
}

const isHello = (e: SessionRequest): boolean => e.payload?.$case === 'hello';

function helloValue(event: SessionRequest): AgentHello {
  if (event.payload?.$case !== 'hello') throw new Error('not a hello');
  return event.payload.value;
}

describe('gateway mode (agent dials a Supervisor server)', () => {
  test('hello, spec and policy, ack, exec, reconnect after a gateway restart, main exit', async () => {
    let home = '';
    const firstContact = (hello: SessionRequest): Array<SessionResponse['payload']> => {
      const policy = {
        $case: 'policyPush' as const,
        value: { version: 1, hash: '', yaml: testPolicy(home) },
      };
      if (helloValue(hello).mainPid !== undefined) return [policy];
      const main = spec(['sh', '-c', 'while [ ! -e "$HOME/stop" ]; do sleep 0.05; done; exit 7']);
      return [policy, { $case: 'spec', value: main }];
    };
    const first = await startFakeGateway({ token: TOKEN, onHello: firstContact });
    const agent = startGatewayAgent(first.port);
    home = agent.home;
    cleanups.push(() => first.stop());

    const hello = helloValue(await first.waitFor(isHello));
    expect(hello).toMatchObject({ sandboxId: 'sb-1' });
    expect(hello.mainPid).toBeUndefined();
    expect(hello.probe?.landlockAbi).toBeGreaterThan(0);
    expect(first.authorizations).toEqual([`Bearer ${TOKEN}`]);
    const ack = await first.waitFor((e) => e.payload?.$case === 'policyAck');
    expect(ack.payload?.value).toMatchObject({ sandboxId: 'sb-1', version: 1, ok: true });

    first.send({
      $case: 'exec',
      value: {
        sessionId: 'e1',
        process: spec(['sh', '-c', 'echo sandbox=$OPENSHELL_SANDBOX; id -u']),
      },
    });
    await first.waitFor(
      (e) => e.payload?.$case === 'processExited' && e.payload.value.sessionId === 'e1',
    );
    const output = first.received
      .filter((e) => e.payload?.$case === 'sessionOutput' && e.payload.value.sessionId === 'e1')
      .map((e) => (e.payload?.value as { data: Buffer }).data.toString())
      .join('');
    expect(output).toBe(`sandbox=1\n${SANDBOX_UID}\n`);

    // The token never shows up where other processes can read it.
    const pid = agent.child.pid ?? 0;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(TOKEN);
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain(TOKEN);

    first.stop();
    const second = await startFakeGateway({
      port: first.port,
      token: TOKEN,
      onHello: firstContact,
    });
    cleanups.push(() => second.stop());
    const again = helloValue(await second.waitFor(isHello, 15_000));
    expect(again.policyVersion).toBe(1);
    const mainPid = again.mainPid ?? 0;
    expect(mainPid).toBeGreaterThan(0);
    expect(readFileSync(`/proc/${mainPid}/cmdline`, 'utf8')).toContain('while');
    expect(second.received.some((e) => e.payload?.$case === 'processExited')).toBe(false);

    writeFileSync(join(agent.home, 'stop'), '');
    const exited = await second.waitFor(
      (e) => e.payload?.$case === 'processExited' && e.payload.value.main,
    );
    expect(exited.payload?.value).toMatchObject({
      pid: mainPid,
      main: true,
      exit: { code: 7, timedOut: false },
    });
  }, 40_000);

  test('TLS: the agent trusts only the CA it was given', async () => {
    const dir = mkdtempSync('/tmp/osa-tls-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const gatewayCert = makeCertificate(dir, 'gateway');
    const otherCa = makeCertificate(dir, 'other');
    const gateway = await startFakeGateway({ token: TOKEN, onHello: () => [], tls: gatewayCert });
    cleanups.push(() => gateway.stop());

    const untrusting = startGatewayAgent(gateway.port, TOKEN, otherCa.certPath);
    await waitUntil(
      () => (untrusting.stderr().match(/gateway stream closed/g) ?? []).length >= 2,
      15_000,
      () => `the agent kept no record of refused connections: ${untrusting.stderr()}`,
    );
    expect(untrusting.stderr()).toContain('UNAVAILABLE');
    expect(gateway.authorizations).toEqual([]);

    const trusting = startGatewayAgent(gateway.port, TOKEN, gatewayCert.certPath);
    const hello = helloValue(
      await gateway.waitFor(isHello).catch((error: Error) => {
        throw new Error(`${error.message}\n${trusting.stderr()}`);
      }),
    );
    expect(hello.sandboxId).toBe('sb-1');
    expect(gateway.authorizations).toEqual([`Bearer ${TOKEN}`]);
  }, 30_000);

  test('a wrong token is refused and the agent keeps retrying without ever getting a spec', async () => {
    const gateway = await startFakeGateway({
      token: 'the-right-token',
      onHello: () => [{ $case: 'spec', value: spec(['true']) }],
    });
    cleanups.push(() => gateway.stop());
    const agent = startGatewayAgent(gateway.port, 'a-wrong-token');
    await waitUntil(
      () => (agent.stderr().match(/gateway stream closed/g) ?? []).length >= 4,
      15_000,
      () => `only ${gateway.authorizations.length} attempts`,
    );
    expect(new Set(gateway.authorizations)).toEqual(new Set(['Bearer a-wrong-token']));
    // Backoff grows (100 ms, 200 ms, 400 ms, ... ±20%): a refusing gateway is not hammered.
    const times = [
      ...agent
        .stderr()
        .matchAll(/"time":"([^"]+)","component":"sandbox-agent","msg":"gateway stream closed"/g),
    ].map((m) => Date.parse(m[1] ?? ''));
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    expect(gaps.length).toBeGreaterThanOrEqual(2);
    expect(gaps.at(-1)).toBeGreaterThan(150);
    expect(agent.stderr()).toContain('UNAUTHENTICATED');
    expect(agent.stderr()).not.toContain('main process started');
  }, 20_000);
});

/** A self-signed certificate for 127.0.0.1 (it is its own CA), made with openssl. */
function makeCertificate(
  dir: string,
  name: string,
): { cert: Buffer; key: Buffer; certPath: string } {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      ...[
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
      ],
      ...[
        '-subj',
        `/CN=${name}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
    ],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(certPath), key: readFileSync(keyPath), certPath };
}
