import { describe, expect, test } from 'vitest';
import { parseAgentArgs } from './parse-agent-args.js';

describe('parseAgentArgs', () => {
  test('gateway mode with a token fd and a CA', () => {
    expect(
      parseAgentArgs([
        '--gateway',
        'gw.internal:17671',
        '--sandbox-id',
        'sb-1',
        '--token-fd',
        '3',
        '--gateway-ca',
        '/run/ca.pem',
      ]),
    ).toMatchObject({
      mode: 'gateway',
      target: 'gw.internal:17671',
      sandboxId: 'sb-1',
      token: { fd: 3 },
      gatewayCa: '/run/ca.pem',
      sandboxUid: 10001,
    });
  });

  test('--start-gate-fd is kept as a fd number; absent means no gate', () => {
    const base = ['--gateway', '127.0.0.1:9', '--sandbox-id', 's', '--token-fd', '3', '--insecure'];
    expect(parseAgentArgs([...base, '--start-gate-fd', '7'])).toMatchObject({ startGateFd: 7 });
    expect(parseAgentArgs(base)).not.toHaveProperty('startGateFd');
  });

  test('file mode with defaults', () => {
    expect(
      parseAgentArgs(['--spec-file', '/s.json', '--control-socket', '/run/ctl.sock']),
    ).toMatchObject({
      mode: 'file',
      sandbox: { home: '/sandbox', uploadRoots: ['/sandbox', '/tmp'] },
    });
  });

  test.for([
    { name: 'loopback v4', target: '127.0.0.1:9' },
    { name: 'loopback v6', target: '[::1]:9' },
    { name: 'localhost', target: 'localhost:9' },
  ])('--insecure is accepted for $name', ({ target }) => {
    expect(
      parseAgentArgs([
        '--gateway',
        target,
        '--sandbox-id',
        's',
        '--token-file',
        '/t',
        '--insecure',
      ]),
    ).toMatchObject({ gatewayCa: undefined });
  });

  test.for([
    { name: 'no mode', args: [] },
    { name: 'both modes', args: ['--gateway', '127.0.0.1:1', '--spec-file', '/s'] },
    {
      name: '--insecure to a remote gateway',
      args: ['--gateway', '10.0.0.5:9', '--sandbox-id', 's', '--token-fd', '3', '--insecure'],
    },
    {
      name: 'neither CA nor --insecure',
      args: ['--gateway', '127.0.0.1:9', '--sandbox-id', 's', '--token-fd', '3'],
    },
    {
      name: 'two token sources',
      args: [
        '--gateway',
        '127.0.0.1:9',
        '--sandbox-id',
        's',
        '--token-fd',
        '3',
        '--token-file',
        '/t',
        '--insecure',
      ],
    },
    {
      name: 'a token on argv',
      args: ['--gateway', '127.0.0.1:9', '--sandbox-id', 's', '--token', 'x', '--insecure'],
    },
    { name: 'uid 0', args: ['--spec-file', '/s', '--control-socket', '/c', '--sandbox-uid', '0'] },
    {
      name: 'relative home',
      args: ['--spec-file', '/s', '--control-socket', '/c', '--home', 'sandbox'],
    },
    { name: 'file mode without socket', args: ['--spec-file', '/s'] },
    {
      name: 'a start gate that is not a fd',
      args: [
        '--gateway',
        '127.0.0.1:9',
        '--sandbox-id',
        's',
        '--token-fd',
        '3',
        '--insecure',
        '--start-gate-fd',
        'x',
      ],
    },
    {
      name: 'a start gate in file mode',
      args: ['--spec-file', '/s', '--control-socket', '/c', '--start-gate-fd', '7'],
    },
    {
      name: 'bad port',
      args: ['--gateway', '127.0.0.1:99999', '--sandbox-id', 's', '--token-fd', '3', '--insecure'],
    },
  ])('refuses $name with ERR_USAGE', ({ args }) => {
    expect(() => parseAgentArgs(args)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });
});
