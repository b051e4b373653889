import { describe, expect, test } from 'vitest';
import { parseUpdateOperations, type UpdateOpToken } from './parse-update-ops.js';

const none = { binaries: [] };

function usageError(
  tokens: UpdateOpToken[],
  options: Parameters<typeof parseUpdateOperations>[1] = none,
): string {
  try {
    parseUpdateOperations(tokens, options);
  } catch (error) {
    expect((error as { code: string }).code).toBe('ERR_USAGE');
    return (error as Error).message;
  }
  throw new Error('expected ERR_USAGE');
}

describe('parseUpdateOperations', () => {
  test('keeps command-line order across flags and applies --binary/--policy-id to every endpoint', () => {
    const ops = parseUpdateOperations(
      [
        { flag: 'remove-endpoint', value: 'old.example.com:443' },
        { flag: 'add-endpoint', value: 'API.example.com:443:read-only:rest:audit' },
        { flag: 'add-allow', value: 'api.example.com:443:post:/v1/a:b/**' },
        { flag: 'add-endpoint', value: '[2001:db8::1]:8443' },
        { flag: 'add-deny', value: 'api.example.com:443:*:/admin/**' },
      ],
      { binaries: ['/usr/bin/curl', '/usr/bin/*'], policyId: 'example_api' },
    );
    expect(ops).toEqual([
      { op: { $case: 'removeEndpoint', value: { host: 'old.example.com', port: 443 } } },
      {
        op: {
          $case: 'addEndpoint',
          value: {
            host: 'api.example.com',
            port: 443,
            access: 'read-only',
            protocol: 'rest',
            enforcement: 'audit',
            binaries: ['/usr/bin/curl', '/usr/bin/*'],
            policy: 'example_api',
          },
        },
      },
      {
        op: {
          $case: 'addAllow',
          value: { host: 'api.example.com', port: 443, method: 'POST', path: '/v1/a:b/**' },
        },
      },
      {
        op: {
          $case: 'addEndpoint',
          value: {
            host: '2001:db8::1',
            port: 8443,
            binaries: ['/usr/bin/curl', '/usr/bin/*'],
            policy: 'example_api',
          },
        },
      },
      {
        op: {
          $case: 'addDeny',
          value: { host: 'api.example.com', port: 443, method: '*', path: '/admin/**' },
        },
      },
    ]);
  });

  test('empty optional parts are left out', () => {
    const [op] = parseUpdateOperations(
      [{ flag: 'add-endpoint', value: 'h.example.com:80::rest' }],
      none,
    );
    expect(op).toEqual({
      op: {
        $case: 'addEndpoint',
        value: { host: 'h.example.com', port: 80, protocol: 'rest', binaries: [] },
      },
    });
  });

  test.for([
    [
      { flag: 'add-endpoint', value: 'api.example.com' },
      '--add-endpoint api.example.com: the port is missing (expected host:port[:access[:protocol[:enforcement]]])',
    ],
    [
      { flag: 'add-endpoint', value: 'api.example.com:0' },
      '--add-endpoint api.example.com:0: port "0" is not 1..65535 (expected host:port[:access[:protocol[:enforcement]]])',
    ],
    [{ flag: 'add-endpoint', value: 'api.example.com:https' }, /port "https" is not 1\.\.65535/],
    [{ flag: 'add-endpoint', value: ':443' }, /the host is missing/],
    [{ flag: 'add-endpoint', value: 'https://api.example.com:443' }, /not a URL/],
    [
      { flag: 'add-endpoint', value: 'h.example.com:443:readonly' },
      /access must be one of read-only, read-write, full/,
    ],
    [{ flag: 'add-endpoint', value: 'h.example.com:443:full:grpc' }, /protocol must be rest/],
    [
      { flag: 'add-endpoint', value: 'h.example.com:443:full:rest:block' },
      /enforcement must be one of enforce, audit/,
    ],
    [{ flag: 'add-endpoint', value: 'h.example.com:443:full:rest:audit:x' }, /too many/],
    [{ flag: 'add-endpoint', value: '[::1:443' }, /unterminated/],
    [
      { flag: 'remove-endpoint', value: 'h.example.com:443:full' },
      '--remove-endpoint h.example.com:443:full: unexpected text after the port (expected host:port)',
    ],
    [
      { flag: 'add-allow', value: 'h.example.com:443' },
      '--add-allow h.example.com:443: METHOD is missing (expected host:port:METHOD:glob)',
    ],
    [{ flag: 'add-allow', value: 'h.example.com:443:GET' }, /the path glob is missing/],
    [
      { flag: 'add-deny', value: 'h.example.com:443:GET:repos/**' },
      /--add-deny .*must start with "\/"/,
    ],
    [{ flag: 'add-deny', value: 'h.example.com:443:G E T:/x' }, /is not an HTTP method/],
  ] as const)('%o → %s', ([token, message]) => {
    expect(usageError([token])).toMatch(
      typeof message === 'string' ? new RegExp(`^${escape(message)}$`) : message,
    );
  });

  test.for([
    [[], none, /nothing to update/],
    [[], { binaries: ['/usr/bin/curl'] }, /--binary applies to --add-endpoint/],
    [
      [{ flag: 'add-endpoint', value: 'h.example.com:443' }],
      { binaries: ['curl'] },
      /--binary curl: must be an absolute path/,
    ],
    [
      [{ flag: 'add-endpoint', value: 'h.example.com:443' }],
      { binaries: [], policyId: '_provider_x' },
      /reserved/,
    ],
    [
      [{ flag: 'add-endpoint', value: 'h.example.com:443' }],
      { binaries: [], policyId: 'a b' },
      /--policy-id a b/,
    ],
    [
      [{ flag: 'remove-endpoint', value: 'h.example.com:443' }],
      { binaries: [], policyId: 'x' },
      /--policy-id applies to --add-endpoint/,
    ],
  ] as const)('options %#: %s', ([tokens, options, message]) => {
    expect(usageError([...tokens], options)).toMatch(message);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
