import { describe, expect, test } from 'vitest';
import { normalizeHost } from '../index.js';
import { endpointPolicy, errorCodes, parseValid, render } from '../test-helpers/policy-text.js';

function hostPolicy(host: string): string {
  return endpointPolicy(`host: ${JSON.stringify(host)}\nport: 443`);
}

describe('endpoint host', () => {
  test('a top-level-domain wildcard is too broad', () => {
    expect(render(hostPolicy('*.com'))).toMatchInlineSnapshot(
      `"policy.yaml:5:15 network_policies.api.endpoints[0].host: "*.com" is too broad — use a registrable domain such as "*.example.com""`,
    );
    expect(errorCodes(hostPolicy('*.example.com'))).toEqual([]);
  });

  test('a bare wildcard matches every host', () => {
    expect(render(hostPolicy('**'))).toMatchInlineSnapshot(
      `"policy.yaml:5:15 network_policies.api.endpoints[0].host: "**" matches every host — name the hosts, or use a wildcard under a domain such as "*.example.com""`,
    );
    expect(errorCodes(hostPolicy('**.example.com'))).toEqual([]);
  });

  test('"**" outside the first label is refused', () => {
    expect(render(hostPolicy('api.**.example.com'))).toMatchInlineSnapshot(
      `"policy.yaml:5:15 network_policies.api.endpoints[0].host: "api.**.example.com" uses "**" after the first label — "**" (one or more labels) is only allowed as the whole first label, e.g. "**.example.com""`,
    );
    expect(errorCodes(hostPolicy('**.api.example.com'))).toEqual([]);
  });

  test('a partial middle-label wildcard is refused', () => {
    expect(render(hostPolicy('*.s3-*.amazonaws.com'))).toMatchInlineSnapshot(
      `"policy.yaml:5:15 network_policies.api.endpoints[0].host: "*.s3-*.amazonaws.com" has a partial wildcard in a middle label — a middle label may only be a whole "*", e.g. "*.s3.*.amazonaws.com""`,
    );
    expect(errorCodes(hostPolicy('*.s3.*.amazonaws.com'))).toEqual([]);
  });

  test('a wildcard in the top-level domain is refused', () => {
    expect(render(hostPolicy('example.*'))).toMatchInlineSnapshot(
      `"policy.yaml:5:15 network_policies.api.endpoints[0].host: "example.*" has a wildcard in the top-level domain — wildcards may only stand for labels in front of a registrable domain, e.g. "*.example.com""`,
    );
    expect(errorCodes(hostPolicy('example.com'))).toEqual([]);
  });

  test('an empty label is refused', () => {
    expect(render(hostPolicy('api..example.com'))).toMatchInlineSnapshot(
      `"policy.yaml:5:15 network_policies.api.endpoints[0].host: "api..example.com" has an empty label — remove the leading, trailing or doubled ".""`,
    );
    expect(errorCodes(hostPolicy('api.example.com'))).toEqual([]);
  });

  test('invalid characters are refused', () => {
    expect(render(hostPolicy('api!.example.com'))).toMatchInlineSnapshot(
      `"policy.yaml:5:15 network_policies.api.endpoints[0].host: "api!.example.com" contains "!" — a host name holds letters, digits, "-", "_" and "." (wildcards: "*")"`,
    );
    expect(errorCodes(hostPolicy('api_v2.example.com'))).toEqual([]);
  });

  test('a loopback IP literal can never be reached and is refused', () => {
    expect(render(hostPolicy('127.0.0.1'))).toMatchInlineSnapshot(
      `"policy.yaml:5:15 network_policies.api.endpoints[0].host: "127.0.0.1" is a loopback address (127.0.0.0/8) — the proxy never connects to loopback, link-local, unspecified or multicast addresses, so this endpoint could never be used"`,
    );
    expect(errorCodes(hostPolicy('93.184.216.34'))).toEqual([]);
  });

  test('a host with a port or a scheme is refused with the fix', () => {
    expect(render(hostPolicy('api.example.com:443'))).toMatchInlineSnapshot(
      `"policy.yaml:5:15 network_policies.api.endpoints[0].host: "api.example.com:443" includes a port — write "host: api.example.com" and "port: 443""`,
    );
    expect(render(hostPolicy('https://api.example.com/v1'))).toMatchInlineSnapshot(
      `"policy.yaml:5:15 network_policies.api.endpoints[0].host: "https://api.example.com/v1" is a URL — write only the host name, e.g. "api.example.com""`,
    );
  });

  test.for([
    // allowed
    ['api.github.com', undefined],
    ['API.GitHub.com', undefined],
    ['*.example.com', undefined],
    ['**.example.com', undefined],
    ['*-aiplatform.googleapis.com', undefined],
    ['api-*.example.com', undefined],
    ['*.s3.*.amazonaws.com', undefined],
    ['redis', undefined],
    ['10.0.5.7', undefined],
    ['2001:db8::1', undefined],
    ['[2001:db8::1]', undefined],
    // too broad
    ['*', 'ERR_POLICY_HOST_TOO_BROAD'],
    ['**.com', 'ERR_POLICY_HOST_TOO_BROAD'],
    ['*.*.com', 'ERR_POLICY_HOST_TOO_BROAD'],
    ['*-foo.com', 'ERR_POLICY_HOST_TOO_BROAD'],
    // misplaced wildcards
    ['a**.example.com', 'ERR_POLICY_HOST_WILDCARD'],
    ['api.**.com', 'ERR_POLICY_HOST_WILDCARD'],
    ['api.ex*ample.com', 'ERR_POLICY_HOST_WILDCARD'],
    ['example.c*m', 'ERR_POLICY_HOST_WILDCARD'],
    ['10.0.0.*', 'ERR_POLICY_HOST_WILDCARD'],
    // malformed
    ['', 'ERR_POLICY_HOST_INVALID'],
    ['.example.com', 'ERR_POLICY_HOST_INVALID'],
    ['example.com.', 'ERR_POLICY_HOST_INVALID'],
    ['exa mple.com', 'ERR_POLICY_HOST_INVALID'],
    [`${'a'.repeat(64)}.example.com`, 'ERR_POLICY_HOST_INVALID'],
    [`${'a.'.repeat(127)}com`, 'ERR_POLICY_HOST_INVALID'],
    ['256.1.1.1', 'ERR_POLICY_HOST_INVALID'],
    ['010.0.0.1', 'ERR_POLICY_HOST_INVALID'],
    ['2001:db8::1::2', 'ERR_POLICY_HOST_INVALID'],
    ['fe80::1%eth0', 'ERR_POLICY_HOST_INVALID'],
    // internal addresses
    ['169.254.169.254', 'ERR_POLICY_HOST_INTERNAL'],
    ['0.0.0.0', 'ERR_POLICY_HOST_INTERNAL'],
    ['::1', 'ERR_POLICY_HOST_INTERNAL'],
    ['[::ffff:127.0.0.1]', 'ERR_POLICY_HOST_INTERNAL'],
    ['fe80::1', 'ERR_POLICY_HOST_INTERNAL'],
    ['224.0.0.1', 'ERR_POLICY_HOST_INTERNAL'],
  ] as const)('host %j → %s', ([host, code]) => {
    expect(errorCodes(hostPolicy(host))).toEqual(code === undefined ? [] : [code]);
  });

  test('hosts are lower-cased and IPv6 literals take their canonical form', () => {
    const hostOf = (host: string): string | undefined =>
      parseValid(hostPolicy(host)).network_policies['api']?.endpoints[0]?.host;
    expect(hostOf('API.GitHub.COM')).toBe('api.github.com');
    expect(hostOf('[2001:DB8:0:0:0:0:0:1]')).toBe('2001:db8::1');
    // Stored exactly as the decision function spells request hosts, or a literal never matches.
    for (const host of ['Api.Example.com', '::FFFF:10.0.0.1', '[fd00::0:1]', '10.0.5.7']) {
      expect(hostOf(host)).toBe(normalizeHost(host));
    }
  });
});
