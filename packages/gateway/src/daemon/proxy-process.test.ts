import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startProxyProcess, type ProxyProcess, type ProxyProcessOptions } from './proxy-process.js';

// The real proxy process (packages/proxy/dist/bin.js), detached like the daemon starts it. No
// gateway listens on its control address: the proxy serves and retries that stream meanwhile.
let dir: string;
let base: ProxyProcessOptions;
const started: ProxyProcess[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'osh-proxy-process-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'ca.key'),
      '-out',
      join(dir, 'ca.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=test gateway CA',
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(join(dir, 'token'), 'test-token\n', { mode: 0o600 });
  mkdirSync(join(dir, 'proxy'), { mode: 0o700 });
  base = {
    stateDir: join(dir, 'proxy'),
    listen: { address: '127.0.0.1', port: await freePort() },
    gateway: { address: '127.0.0.1', port: await freePort() },
    gatewayCaFile: join(dir, 'ca.pem'),
    tokenFile: join(dir, 'token'),
    resolve: ['api.example.com:443=127.0.0.1:1'],
    log: () => undefined,
  };
});

afterAll(async () => {
  for (const proxy of started) await proxy.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('startProxyProcess', () => {
  test('a gateway with the same options adopts the running proxy', async () => {
    const first = await startProxyProcess(base);
    started.push(first);
    expect(first.adopted).toBe(false);
    const again = await startProxyProcess(base);
    expect(again).toMatchObject({ adopted: true, pid: first.pid });
    expect(isAlive(first.pid)).toBe(true);
  });

  test('a gateway with other options restarts it instead of enforcing with stale ones', async () => {
    const before = await startProxyProcess(base);
    expect(before.adopted).toBe(true);
    const messages: string[] = [];
    const changed = await startProxyProcess({
      ...base,
      resolve: ['api.example.com:443=127.0.0.1:2'],
      log: (message) => messages.push(message),
    });
    started.push(changed);
    expect(changed.adopted).toBe(false);
    expect(changed.pid).not.toBe(before.pid);
    expect(isAlive(before.pid)).toBe(false);
    const cmdline = readFileSync(`/proc/${String(changed.pid)}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toContain('api.example.com:443=127.0.0.1:2');
    expect(cmdline).not.toContain('api.example.com:443=127.0.0.1:1');
    expect(messages.join('\n')).toMatch(/restarting the egress proxy .* other options/);
  });
});
