import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { run } from './helpers/clients.js';
import { startHarness, type Harness } from './helpers/proxy-harness.js';
import { createTestCertificate } from './helpers/upstream-servers.js';

const POLICY = `
version: 1
network_policies:
  github_git:
    name: github-git
    endpoints:
      - host: github.com
        port: 443
        protocol: rest
        rules:
          - allow: { method: GET, path: "/**/info/refs", query: { service: git-upload-pack } }
          - allow: { method: POST, path: "/**/git-upload-pack" }
    binaries:
      - path: /usr/bin/git
`;

let dir: string;
let server: Server;
let harness: Harness;
const GIT_ID = ['-c', 'user.name=t', '-c', 'user.email=t@example.com'];

/** `git http-backend` (the smart-HTTP CGI shipped with git) behind an HTTPS server. */
function serveGitHttpBackend(
  root: string,
  cert: { certPem: string; keyPem: string },
): Promise<Server> {
  const https = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://github.com');
    const cgi = spawn('/usr/bin/git', ['http-backend'], {
      env: {
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_USER: 'test',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
  });
  return new Promise((resolve) => https.listen(0, '127.0.0.1', () => resolve(https)));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'proxy-git-'));
  const work = join(dir, 'work');
  await run('/usr/bin/git', ['init', '-q', '-b', 'main', work]);
  writeFileSync(join(work, 'README'), 'hello through the proxy\n');
  await run('/usr/bin/git', ['-C', work, 'add', 'README']);
  await run('/usr/bin/git', ['-C', work, ...GIT_ID, 'commit', '-q', '-m', 'first']);
  await run('/usr/bin/git', ['clone', '-q', '--bare', work, join(dir, 'repos', 'o', 'r.git')]);
  const cert = await createTestCertificate(['github.com']);
  server = await serveGitHttpBackend(join(dir, 'repos'), cert);
  harness = await startHarness({
    policy: POLICY,
    options: {
      upstreamCaPem: cert.certPem,
      resolveOverrides: [`github.com:443=127.0.0.1:${(server.address() as AddressInfo).port}`],
    },
  });
});

afterAll(async () => {
  await harness.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const viaProxy = (): string[] => [
  '-c',
  `http.proxy=${harness.url}`,
  '-c',
  `http.sslCAInfo=${harness.proxy.caBundlePath}`,
];

describe('git over HTTPS through the proxy (binary identity by ancestor: git → git-remote-https)', () => {
  test('git clone is allowed by the upload-pack rules', async () => {
    const dest = join(dir, 'clone');
    const r = await run(
      '/usr/bin/git',
      [...viaProxy(), 'clone', '-q', 'https://github.com/o/r.git', dest],
      { HOME: dir },
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dest, 'README'), 'utf8')).toBe('hello through the proxy\n');
    expect(
      harness.events.filter((e) => e.method === 'POST' && e.action === 'allow').at(-1)?.path,
    ).toBe('/o/r.git/git-upload-pack');
  });

  test('git push is refused at the receive-pack discovery request (403), the repository is untouched', async () => {
    const dest = join(dir, 'clone');
    expect(existsSync(dest)).toBe(true);
    writeFileSync(join(dest, 'NEW'), 'x\n');
    await run('/usr/bin/git', ['-C', dest, 'add', 'NEW']);
    await run('/usr/bin/git', ['-C', dest, ...GIT_ID, 'commit', '-q', '-m', 'second']);
    const r = await run(
      '/usr/bin/git',
      ['-C', dest, ...viaProxy(), 'push', '-q', 'origin', 'main'],
      { HOME: dir },
    );
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('403');
    const denied = harness.events.findLast((e) => e.action === 'deny');
    expect(denied).toMatchObject({ method: 'GET', path: '/o/r.git/info/refs', layer: 'l7' });
    expect(denied?.ancestors).toContain('/usr/bin/git');
    const count = await run('/usr/bin/git', [
      '-C',
      join(dir, 'repos', 'o', 'r.git'),
      'rev-list',
      '--count',
      'main',
    ]);
    expect(count.stdout.trim()).toBe('1');
  });
});
