import { describe, expect, test } from 'vitest';
import { buildSandboxEnv } from './sandbox-env.js';

const base = { home: '/sandbox', uploadRoots: ['/sandbox', '/tmp'] };

describe('buildSandboxEnv', () => {
  test('proxy, CA and sandbox variables (DESIGN §3 step 4)', () => {
    const env = buildSandboxEnv(
      { ...base, proxyUrl: 'http://10.200.0.1:3128', caBundle: '/run/openshell/ca.pem' },
      { ANTHROPIC_API_KEY: 'openshell:resolve:env:ANTHROPIC_API_KEY' },
      { tty: false },
    );
    expect(env).toEqual({
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ANTHROPIC_API_KEY: 'openshell:resolve:env:ANTHROPIC_API_KEY',
      HOME: '/sandbox',
      OPENSHELL_SANDBOX: '1',
      HTTP_PROXY: 'http://10.200.0.1:3128',
      http_proxy: 'http://10.200.0.1:3128',
      HTTPS_PROXY: 'http://10.200.0.1:3128',
      https_proxy: 'http://10.200.0.1:3128',
      ALL_PROXY: 'http://10.200.0.1:3128',
      all_proxy: 'http://10.200.0.1:3128',
      NO_PROXY: 'localhost,127.0.0.1,::1',
      no_proxy: 'localhost,127.0.0.1,::1',
      NODE_USE_ENV_PROXY: '1',
      SSL_CERT_FILE: '/run/openshell/ca.pem',
      NODE_EXTRA_CA_CERTS: '/run/openshell/ca.pem',
      REQUESTS_CA_BUNDLE: '/run/openshell/ca.pem',
      CURL_CA_BUNDLE: '/run/openshell/ca.pem',
      GIT_SSL_CAINFO: '/run/openshell/ca.pem',
    });
  });

  test('without a proxy or CA, none of their variables appear', () => {
    expect(buildSandboxEnv(base, {}, { tty: false })).toEqual({
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/sandbox',
      OPENSHELL_SANDBOX: '1',
    });
  });

  test('the spec may set PATH and TERM but not the managed variables', () => {
    const env = buildSandboxEnv(
      { ...base, proxyUrl: 'http://p:1' },
      { PATH: '/opt/bin', TERM: 'vt100', HTTPS_PROXY: '', OPENSHELL_SANDBOX: '0' },
      { tty: true },
    );
    expect(env).toMatchObject({
      PATH: '/opt/bin',
      TERM: 'vt100',
      HTTPS_PROXY: 'http://p:1',
      OPENSHELL_SANDBOX: '1',
    });
  });

  test('a terminal gets TERM by default; a pipe does not', () => {
    expect(buildSandboxEnv(base, {}, { tty: true }).TERM).toBe('xterm-256color');
    expect(buildSandboxEnv(base, {}, { tty: false }).TERM).toBeUndefined();
  });
});
