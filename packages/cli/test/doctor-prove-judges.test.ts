import { DEFAULT_POLICY } from '@openshell/policy-schema';
import { describe, expect, test } from 'vitest';
import type { AttemptSpec, HostFacts, ProveContext } from '../src/doctor/attempt-spec.js';
import { buildProveContext } from '../src/doctor/build-prove-context.js';
import { PROVE_ATTEMPTS } from '../src/doctor/prove-script.js';
import type { AttemptResult } from '../src/doctor/prove-types.js';

// Each judge reads what the in-sandbox script reported and decides blocked / NOT BLOCKED /
// void. Every "blocked" case sits beside the answer that must flip it (the attempt worked)
// and, where the attempt has one, the failed positive control that must void it.
const CTX = buildProveContext({
  policy: DEFAULT_POLICY,
  gatewayPorts: [17670, 17671],
  supervisorPortHint: 17672,
  tag: 'feedc0ffee00',
});
const L7_CTX: ProveContext = {
  ...CTX,
  l7: { host: 'api.example.com', port: 443, method: 'GET', path: '/a/%2e%2e/x', why: 'rules' },
};
const HOST: HostFacts = {
  local: true,
  rootEntries: ['.bashrc', '.ssh'],
  pidCount: 120,
  tmpWriteLeaked: false,
};
const UID = '239372';

function spec(id: string): AttemptSpec {
  const found = PROVE_ATTEMPTS.find((a) => a.id === id);
  if (found === undefined) throw new Error(`no attempt ${id}`);
  return found;
}

interface Case {
  readonly id: string;
  readonly why: string;
  readonly record: Record<string, string>;
  readonly result: AttemptResult;
  readonly layer?: string | null;
  readonly ctx?: ProveContext;
  readonly host?: Partial<HostFacts>;
}

const CASES: readonly Case[] = [
  // filesystem
  {
    id: 'fs-read-shadow',
    why: 'DAC refuses',
    record: {
      rc: '1',
      err: 'cat: /etc/shadow: Permission denied',
      stat: '640 0',
      uid: UID,
      control: '0',
    },
    result: 'blocked',
    layer: 'uid/capabilities',
  },
  {
    id: 'fs-read-shadow',
    why: 'the file was read',
    record: { rc: '0', err: '', control: '0' },
    result: 'not_blocked',
  },
  {
    id: 'fs-read-shadow',
    why: 'the readable control failed',
    record: { rc: '1', err: 'Permission denied', control: '1' },
    result: 'error',
  },
  {
    id: 'fs-read-root',
    why: 'no host entry visible',
    record: { rc: '0', entries: 'x/' },
    result: 'blocked',
    layer: 'namespaces/mount',
  },
  {
    id: 'fs-read-root',
    why: 'Landlock refuses the listing',
    record: {
      rc: '2',
      err: 'ls: cannot open directory /root: Permission denied',
      stat: '755 0',
      uid: UID,
    },
    result: 'blocked',
    layer: 'landlock',
  },
  {
    id: 'fs-read-root',
    why: 'a host entry shows',
    record: { rc: '0', entries: '.bashrc/other/' },
    result: 'not_blocked',
  },
  {
    id: 'fs-read-root',
    why: 'the host /root cannot be compared',
    record: { rc: '0', entries: '' },
    host: { rootEntries: undefined },
    result: 'error',
  },
  {
    id: 'fs-write-usr',
    why: 'read-only bind',
    record: { rc: '2', err: 'sh: 1: cannot create /usr/x: Read-only file system', control: '0' },
    result: 'blocked',
    layer: 'namespaces/mount',
  },
  {
    id: 'fs-write-usr',
    why: 'the write landed',
    record: { rc: '0', err: '', control: '0' },
    result: 'not_blocked',
  },
  {
    id: 'fs-write-etc',
    why: '/sandbox is not writable (control)',
    record: { rc: '2', err: 'Read-only file system', control: '2' },
    result: 'error',
  },
  {
    id: 'fs-host-tmp',
    why: 'marker invisible, write stayed inside',
    record: { seen: '1', control: '0' },
    result: 'blocked',
    layer: 'namespaces/mount',
  },
  {
    id: 'fs-host-tmp',
    why: 'the host marker is visible',
    record: { seen: '0', control: '0' },
    result: 'not_blocked',
  },
  {
    id: 'fs-host-tmp',
    why: "the sandbox's write reached the host",
    record: { seen: '1', control: '0' },
    host: { tmpWriteLeaked: true },
    result: 'not_blocked',
  },
  {
    id: 'fs-landlock',
    why: 'EACCES on world-listable dirs',
    record: {
      '/.rc': '2',
      '/.err': 'Permission denied',
      '/.stat': '755 0',
      '/run.rc': '2',
      '/run.err': 'Permission denied',
      '/run.stat': '755 0',
      uid: UID,
      control: '0',
    },
    result: 'blocked',
    layer: 'landlock',
  },
  {
    id: 'fs-landlock',
    why: '/ was listed',
    record: { '/.rc': '0', '/run.rc': '2', '/run.err': 'Permission denied', control: '0' },
    result: 'not_blocked',
  },
  // process, namespaces, sockets
  {
    id: 'proc-host-pids',
    why: 'fewer processes than the host',
    record: { count: '7' },
    result: 'blocked',
    layer: 'namespaces/pid',
  },
  {
    id: 'proc-host-pids',
    why: "as many as the host's",
    record: { count: '120' },
    result: 'not_blocked',
  },
  {
    id: 'proc-signal-agent',
    why: 'EPERM for both',
    record: { agent: 'EPERM', init: 'EPERM', control: 'OK' },
    result: 'blocked',
    layer: 'uid/capabilities',
  },
  {
    id: 'proc-signal-agent',
    why: 'the agent took the signal',
    record: { agent: 'OK', init: 'EPERM', control: 'OK' },
    result: 'not_blocked',
  },
  {
    id: 'proc-signal-agent',
    why: 'cannot even signal itself',
    record: { agent: 'EPERM', init: 'EPERM', control: 'EPERM' },
    result: 'error',
  },
  {
    id: 'proc-ptrace-agent',
    why: 'an answer naming an Object method, not an errno',
    record: { ptrace: 'constructor' },
    result: 'error',
  },
  {
    id: 'proc-ptrace-agent',
    why: 'an unexpected errno',
    record: { ptrace: 'ESRCH' },
    result: 'error',
  },
  {
    id: 'proc-setuid',
    why: 'setuid ignored under no_new_privs',
    record: {
      mode: '-rwsr-xr-x',
      rc: '32',
      err: 'mount: m: must be superuser to use mount.',
      nnp: '1',
    },
    result: 'blocked',
    layer: 'no_new_privs',
  },
  {
    id: 'proc-setuid',
    why: 'the mount succeeded',
    record: { mode: '-rwsr-xr-x', rc: '0', err: '', nnp: '0' },
    result: 'not_blocked',
  },
  {
    id: 'proc-setuid',
    why: 'mount is not setuid here',
    record: { mode: '-rwxr-xr-x', rc: '32', err: '', nnp: '1' },
    result: 'skipped',
    layer: null,
  },
  {
    id: 'ns-unshare',
    why: 'seccomp EPERM',
    record: { user: 'EPERM', net: 'EPERM', tool: 'EPERM' },
    result: 'blocked',
    layer: 'seccomp',
  },
  {
    id: 'ns-unshare',
    why: 'a user namespace was created',
    record: { user: 'OK', net: 'EPERM', tool: 'EPERM' },
    result: 'not_blocked',
  },
  {
    id: 'ns-setns',
    why: "init's ns file cannot be opened",
    record: { setns: 'EACCES', nsenter: 'EPERM' },
    result: 'blocked',
    layer: 'uid/capabilities',
  },
  {
    id: 'sock-packet',
    why: 'seccomp family allow-list',
    record: { open: 'EPERM', control: 'OK' },
    result: 'blocked',
    layer: 'seccomp',
  },
  {
    id: 'sock-raw',
    why: 'a TCP socket cannot open either (control)',
    record: { open: 'EPERM', control: 'EPERM' },
    result: 'error',
  },
  // network
  {
    id: 'net-direct',
    why: 'reset at once',
    record: { '1.1.1.1:443': 'ECONNREFUSED', control: 'OK' },
    result: 'blocked',
    layer: 'netns+nftables',
  },
  {
    id: 'net-direct',
    why: 'connected',
    record: { '1.1.1.1:443': 'OK', control: 'OK' },
    result: 'not_blocked',
  },
  {
    id: 'net-direct',
    why: 'silently dropped (timeout)',
    record: { '1.1.1.1:443': 'ETIMEDOUT', control: 'OK' },
    result: 'error',
  },
  {
    id: 'net-direct',
    why: 'the proxy is unreachable (control)',
    record: { '1.1.1.1:443': 'ECONNREFUSED', control: 'ECONNREFUSED' },
    result: 'error',
  },
  {
    id: 'net-gateway-ports',
    why: 'every port refused',
    record: {
      keys: ' 127.0.0.1:17670 10.0.0.1:17672',
      '127.0.0.1:17670': 'ECONNREFUSED',
      '10.0.0.1:17672': 'ECONNREFUSED',
      control: 'OK',
    },
    result: 'blocked',
    layer: 'netns+nftables',
  },
  {
    id: 'net-gateway-ports',
    why: 'the supervisor port answered',
    record: {
      keys: ' 127.0.0.1:17670 10.0.0.1:17672',
      '127.0.0.1:17670': 'ECONNREFUSED',
      '10.0.0.1:17672': 'OK',
      control: 'OK',
    },
    result: 'not_blocked',
  },
  // proxy
  {
    id: 'proxy-l4',
    why: 'L4 denial body',
    record: { 'req.code': '403', 'req.error': 'policy_denied', 'req.rule': '0' },
    result: 'blocked',
    layer: 'proxy L4 policy',
  },
  {
    id: 'proxy-l4',
    why: 'the proxy dialled it (502)',
    record: { 'req.code': '502', 'req.error': 'upstream_failed', 'req.rule': '0' },
    result: 'not_blocked',
  },
  {
    id: 'proxy-l4',
    why: 'a 403 from the upstream, not the proxy',
    record: { 'req.code': '403', 'req.error': '', 'req.rule': '0' },
    result: 'not_blocked',
  },
  {
    id: 'proxy-l4',
    why: 'no HTTP answer at all',
    record: { 'req.code': '000', 'req.err': 'curl: (7) refused' },
    result: 'error',
  },
  {
    id: 'proxy-ssrf-loopback',
    why: 'SSRF denial body',
    record: { 'req.code': '403', 'req.error': 'ssrf_denied', 'req.rule': '0' },
    result: 'blocked',
    layer: 'proxy SSRF',
  },
  { id: 'proxy-l7', why: 'no L7 rules in the policy', record: {}, result: 'skipped', layer: null },
  {
    id: 'proxy-l7',
    why: 'L7 denial names a rule',
    ctx: L7_CTX,
    record: { 'req.code': '403', 'req.error': 'policy_denied', 'req.rule': '1' },
    result: 'blocked',
    layer: 'proxy L7',
  },
  {
    id: 'proxy-l7',
    why: 'the trick was forwarded',
    ctx: L7_CTX,
    record: { 'req.code': '200', 'req.error': '', 'req.rule': '0' },
    result: 'not_blocked',
  },
  {
    id: 'proxy-credentials',
    why: 'placeholder refused off its binding',
    record: {
      value: 'openshell:resolve:env:OPENSHELL_PROVE_TOKEN',
      'req.code': '403',
      'req.error': 'credential_endpoint_mismatch',
      'req.rule': '0',
    },
    result: 'blocked',
    layer: 'proxy credentials',
  },
  {
    id: 'proxy-credentials',
    why: 'the real secret is in the environment',
    record: { value: CTX.credential.dummy, 'req.code': '403', 'req.error': 'policy_denied' },
    result: 'not_blocked',
  },
  {
    id: 'proxy-credentials',
    why: 'no placeholder (control)',
    record: { value: '', 'req.code': '403', 'req.error': 'policy_denied' },
    result: 'error',
  },
  {
    id: 'proxy-credentials',
    why: 'the check was never reached',
    record: { value: 'openshell:resolve:env:X', 'req.code': '502', 'req.error': 'upstream_failed' },
    result: 'error',
  },
  // resources
  {
    id: 'res-core',
    why: 'soft and hard 0',
    record: { soft: '0', hard: '0', raised: '0' },
    result: 'blocked',
    layer: 'rlimit core',
  },
  {
    id: 'res-core',
    why: 'it could be raised',
    record: { soft: '0', hard: 'unlimited', raised: '1' },
    result: 'not_blocked',
  },
  {
    id: 'res-fork-bomb',
    why: 'EAGAIN below the limit',
    record: { control: 'forked=8 stop=none', bomb: 'forked=47 stop=EAGAIN' },
    result: 'blocked',
    layer: 'cgroup pids',
  },
  {
    id: 'res-fork-bomb',
    why: 'every fork succeeded',
    record: { control: 'forked=8 stop=none', bomb: 'forked=128 stop=none' },
    result: 'not_blocked',
  },
  {
    id: 'res-fork-bomb',
    why: '8 forks failed (control)',
    record: { control: 'forked=3 stop=EAGAIN', bomb: 'forked=3 stop=EAGAIN' },
    result: 'error',
  },
  {
    id: 'res-memory',
    why: 'OOM-killed',
    record: { control: 'held=32', rc: '137', out: 'Killed' },
    result: 'blocked',
    layer: 'cgroup memory',
  },
  {
    id: 'res-memory',
    why: 'it held everything',
    record: { control: 'held=32', rc: '0', out: 'held=1024' },
    result: 'not_blocked',
  },
  {
    id: 'res-memory',
    why: '32 MiB failed (control)',
    record: { control: '', rc: '137', out: '' },
    result: 'error',
  },
  // a remote gateway: the CLI's host is not the sandbox's, so comparing with it proves nothing
  ...['fs-read-root', 'fs-host-tmp', 'proc-host-pids'].map((id): Case => ({
    id,
    why: 'the gateway is remote',
    record: { rc: '0', entries: '.bashrc/', seen: '0', control: '0', count: '500' },
    host: { local: false },
    result: 'skipped',
    layer: null,
  })),
  // the rest of the table: one blocked and one NOT BLOCKED answer for every attempt
  {
    id: 'fs-write-etc',
    why: 'read-only bind',
    record: { rc: '2', err: 'Read-only file system', control: '0' },
    result: 'blocked',
    layer: 'namespaces/mount',
  },
  {
    id: 'fs-write-etc',
    why: 'the write landed',
    record: { rc: '0', control: '0' },
    result: 'not_blocked',
  },
  {
    id: 'proc-ptrace-agent',
    why: 'seccomp EPERM',
    record: { ptrace: 'EPERM' },
    result: 'blocked',
    layer: 'seccomp',
  },
  { id: 'proc-ptrace-agent', why: 'attached', record: { ptrace: 'OK' }, result: 'not_blocked' },
  {
    id: 'ns-mount',
    why: 'seccomp EPERM',
    record: { mount: 'EPERM', remount: 'EPERM' },
    result: 'blocked',
    layer: 'seccomp',
  },
  {
    id: 'ns-mount',
    why: '/usr remounted read-write',
    record: { mount: 'EPERM', remount: 'OK' },
    result: 'not_blocked',
  },
  {
    id: 'ns-setns',
    why: 'joined',
    record: { setns: 'OK', nsenter: 'EPERM' },
    result: 'not_blocked',
  },
  {
    id: 'sock-raw',
    why: 'no CAP_NET_RAW',
    record: { open: 'EPERM', control: 'OK' },
    result: 'blocked',
    layer: 'uid/capabilities',
  },
  { id: 'sock-raw', why: 'opened', record: { open: 'OK', control: 'OK' }, result: 'not_blocked' },
  {
    id: 'sock-packet',
    why: 'opened',
    record: { open: 'OK', control: 'OK' },
    result: 'not_blocked',
  },
  {
    id: 'sock-netlink-audit',
    why: 'seccomp',
    record: { open: 'EPERM', control: 'OK' },
    result: 'blocked',
    layer: 'seccomp',
  },
  {
    id: 'sock-netlink-audit',
    why: 'opened',
    record: { open: 'OK', control: 'OK' },
    result: 'not_blocked',
  },
  {
    id: 'net-udp-dns',
    why: 'EPERM at send',
    record: { '8.8.8.8:53': 'EPERM' },
    result: 'blocked',
    layer: 'netns+nftables',
  },
  { id: 'net-udp-dns', why: 'sent', record: { '8.8.8.8:53': 'OK' }, result: 'not_blocked' },
  {
    id: 'net-ipv6',
    why: 'no route',
    record: { '[2606:4700:4700::1111]:443': 'ENETUNREACH' },
    result: 'blocked',
    layer: 'netns+nftables',
  },
  {
    id: 'net-ipv6',
    why: 'connected',
    record: { '[2606:4700:4700::1111]:443': 'OK' },
    result: 'not_blocked',
  },
  {
    id: 'proxy-ssrf-metadata',
    why: 'L4 refused before SSRF',
    record: { 'req.code': '403', 'req.error': 'policy_denied', 'req.rule': '0' },
    result: 'blocked',
    layer: 'proxy L4 policy',
  },
  {
    id: 'proxy-ssrf-metadata',
    why: 'metadata answered',
    record: { 'req.code': '200', 'req.error': '' },
    result: 'not_blocked',
  },
  {
    id: 'proxy-ssrf-loopback',
    why: 'the gateway API answered',
    record: { 'req.code': '404', 'req.error': '' },
    result: 'not_blocked',
  },
  {
    id: 'proxy-ssrf-private',
    why: 'SSRF denial body',
    record: { 'req.code': '403', 'req.error': 'ssrf_denied', 'req.rule': '0' },
    result: 'blocked',
    layer: 'proxy SSRF',
  },
  {
    id: 'proxy-ssrf-private',
    why: 'the proxy dialled it',
    record: { 'req.code': '502', 'req.error': 'upstream_failed' },
    result: 'not_blocked',
    layer: 'proxy SSRF',
  },
];

describe('judges', () => {
  test.for(CASES)('$id: $why → $result', (c) => {
    const verdict = spec(c.id).judge(new Map(Object.entries(c.record)), c.ctx ?? CTX, {
      ...HOST,
      ...c.host,
    });
    expect(verdict.result, verdict.detail).toBe(c.result);
    if (c.layer !== undefined) expect(verdict.layer).toBe(c.layer);
    expect(verdict.detail).not.toBe('');
  });

  test('every attempt has a blocked and a NOT BLOCKED case in the table', () => {
    const with_ = (result: AttemptResult): Set<string> =>
      new Set(CASES.filter((c) => c.result === result).map((c) => c.id));
    const ids = PROVE_ATTEMPTS.map((a) => a.id);
    expect(ids.filter((id) => !with_('blocked').has(id))).toEqual([]);
    // proxy-l7 is skipped under CTX (no L7 rules); its NOT BLOCKED case runs under L7_CTX.
    expect(ids.filter((id) => !with_('not_blocked').has(id))).toEqual([]);
  });
});
