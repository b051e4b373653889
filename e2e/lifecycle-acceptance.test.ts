// Issue #5's acceptance run, as a user types it: the built `openshell` binary against a real
// local gateway, proxy and sandbox. `example.com` is a loopback HTTPS server reached through
// the proxy's resolve override (the policy still names example.com); nothing leaves the host.
// The gateway gets this file's own addresses, ports, uids and state through the environment
// the CLI passes on, so it can run beside other tests and beside a user's own gateway.
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  hostObjects,
  isolatedEnv,
  run,
  runOpenshell,
  freePort,
  EXAMPLE_SITE_POLICY,
} from './helpers/isolated-gateway.js';

const NAMES = {
  prefix: 'eac',
  serviceAddress: '10.239.26.1',
  pool: '10.239.27.0/24',
  uidBase: 239_270,
};

let dir: string;
let env: NodeJS.ProcessEnv;
let site: Server;
const received: { method: string; path: string }[] = [];

function openshell(args: readonly string[], options: { timeoutMs?: number } = {}) {
  return runOpenshell(env, dir, args, options.timeoutMs);
}

/** A throwaway CA and an example.com certificate for the loopback "internet". */
async function makeSiteTls(): Promise<{ key: Buffer; cert: Buffer; caFile: string }> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const caFile = join(dir, 'site-ca.pem');
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-subj',
    '/CN=e2e-ca',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    caFile,
  ]);
  await run('openssl', [
    'req',
    ...ec,
    '-subj',
    '/CN=example.com',
    '-keyout',
    join(dir, 'site.key'),
    '-out',
    join(dir, 'site.csr'),
  ]);
  await writeFile(join(dir, 'site.ext'), 'subjectAltName=DNS:example.com\n');
  await run('openssl', [
    ...['x509', '-req', '-in', join(dir, 'site.csr'), '-CA', caFile, '-CAkey', join(dir, 'ca.key')],
    ...[
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      join(dir, 'site.ext'),
      '-out',
      join(dir, 'site.pem'),
    ],
  ]);
  return {
    key: await readFile(join(dir, 'site.key')),
    cert: await readFile(join(dir, 'site.pem')),
    caFile,
  };
}

beforeAll(async () => {
  dir = await mkdtemp('/var/tmp/openshell-e2e-accept-');
  const tls = await makeSiteTls();
  site = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    received.push({ method: req.method ?? '', path: req.url ?? '' });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, method: req.method, path: req.url }));
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const sitePort = (site.address() as AddressInfo).port;
  env = await isolatedEnv(dir, NAMES, {
    NO_COLOR: '1',
    OPENSHELL_PROXY_RESOLVE: `example.com:443=127.0.0.1:${String(sitePort)}`,
    OPENSHELL_PROXY_UPSTREAM_CA: tls.caFile,
  });
  const [port, httpPort] = [await freePort(), await freePort()];
  const started = await openshell([
    ...['gateway', 'start', '--port', String(port), '--http-port', String(httpPort)],
    ...['--resolve', env['OPENSHELL_PROXY_RESOLVE'] ?? '', '--upstream-ca', tls.caFile],
  ]);
  expect(started.code, started.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await openshell(['sandbox', 'delete', '--all']);
  await openshell(['gateway', 'stop']);
  await new Promise((resolve) => site.close(resolve));
  await run('ip', ['addr', 'del', `${NAMES.serviceAddress}/32`, 'dev', 'lo']).catch(
    () => undefined,
  );
  await rm(dir, { recursive: true, force: true });
}, 120_000);

test('the lifecycle a user walks through, start to finish', async () => {
  const status = await openshell(['status']);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/Status:\s+Connected/);

  const created = await openshell(['sandbox', 'create', '--name', 'demo', '--', 'sh', '-c', 'pwd']);
  expect(created.code, created.stderr).toBe(0);
  expect(created.stdout).toBe('/sandbox\n');

  const list = await openshell(['sandbox', 'list']);
  expect(list.stdout).toMatch(/^NAME\s+CREATED\s+PHASE\n/);
  expect(list.stdout).toMatch(/^demo\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+Ready$/m);
  const json = JSON.parse((await openshell(['sandbox', 'list', '-o', 'json'])).stdout) as unknown[];
  expect(json).toEqual([expect.objectContaining({ name: 'demo', phase: 'Ready' })]);

  const denied = await openshell([
    'sandbox',
    'exec',
    '-n',
    'demo',
    '--',
    'curl',
    '-I',
    'https://example.com/some-path',
  ]);
  expect(denied.code).not.toBe(0);
  // curl ≥ 7.84 words it "CONNECT tunnel failed, response 403"; older ones as OpenShell's docs show.
  expect(denied.stderr).toMatch(
    /Received HTTP code 403 from proxy after CONNECT|CONNECT tunnel failed, response 403/,
  );
  expect(received).toHaveLength(0);

  const full = await openshell(['policy', 'get', 'demo', '--full']);
  expect(full.stdout).toMatch(
    /^Version:\s+1\nHash:\s+[0-9a-f]{64}\nStatus:\s+Loaded\nActive:\s+1\nCreated:\s+.+ UTC\n(.+\n)*---\n/,
  );
  await writeFile(join(dir, 'current.yaml'), full.stdout);
  await appendFile(join(dir, 'current.yaml'), EXAMPLE_SITE_POLICY);
  const set = await openshell(['policy', 'set', 'demo', '--policy', 'current.yaml', '--wait']);
  expect(set.code, set.stderr).toBe(0);
  expect(set.stderr).toMatch(/header/i);

  const allowed = await openshell([
    'sandbox',
    'exec',
    '-n',
    'demo',
    '--',
    'curl',
    '-sS',
    'https://example.com/some-path',
  ]);
  expect(allowed.code, allowed.stderr).toBe(0);
  expect(JSON.parse(allowed.stdout)).toMatchObject({ ok: true, method: 'GET', path: '/some-path' });

  const post = await openshell([
    'sandbox',
    'exec',
    '-n',
    'demo',
    '--',
    'curl',
    '-sS',
    '-X',
    'POST',
    'https://example.com/some-path',
  ]);
  expect(JSON.parse(post.stdout)).toMatchObject({
    error: 'policy_denied',
    policy: 'example-site',
    method: 'POST',
  });
  expect(received.filter((r) => r.method === 'POST')).toHaveLength(0);

  const logs = await openshell(['logs', 'demo']);
  expect(logs.code).toBe(0);
  expect(logs.stdout).toMatch(/DENY.*example\.com:443/);
  expect(logs.stdout).toMatch(/ALLOW.*example\.com:443/);

  const fsChange = (await readFile(join(dir, 'current.yaml'), 'utf8')).replace(
    'read_only: [/usr, /lib, /etc, /proc, /dev/urandom]',
    'read_only: [/usr, /lib, /etc, /proc, /dev/urandom, /opt]',
  );
  expect(fsChange).toContain('/opt]');
  await writeFile(join(dir, 'fs-change.yaml'), fsChange);
  const refused = await openshell([
    'policy',
    'set',
    'demo',
    '--policy',
    'fs-change.yaml',
    '--wait',
  ]);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('filesystem_policy cannot be changed on a live sandbox');

  const deleted = await openshell(['sandbox', 'delete', 'demo']);
  expect(deleted.stdout).toContain('✓ Deleted sandbox demo');
  const empty = await openshell(['sandbox', 'list']);
  expect(empty.stdout).toBe('No sandboxes found.\n');
  expect(await hostObjects(NAMES)).toEqual([]);
}, 300_000);
