import { describe, expect, test } from 'vitest';
import { AGENT_CAPABILITIES } from '../local/build-bwrap-args.js';
import { planContainer, TOKEN_DIR, type ContainerInputs } from './plan-container.js';

const BASE: ContainerInputs = {
  image: 'localhost/test:1',
  name: 'openshell-os-demo-abc',
  owner: 'os:/var/lib/openshell/docker-driver',
  id: 'demo',
  command: ['/bin/sh', '-c', 'exec agent'],
  env: { PATH: '/usr/bin', OPENSHELL_SANDBOX_ID: 'demo' },
  workspace: '/state/workspaces/demo',
  passwdFile: '/state/sandboxes/demo/passwd',
  groupFile: '/state/sandboxes/demo/group',
  tokenDir: '/state/sandboxes/demo/token',
  runBinds: [
    { name: 'agent', source: '/opt/openshell' },
    { name: 'sandbox-ca', source: '/state/sandbox-ca', public: true },
  ],
  node: {
    nodePath: '/run/openshell/node/run-node',
    binds: [{ source: '/usr/bin/node', target: '/run/openshell/node/bin/node' }],
  },
};

describe('planContainer', () => {
  const body = planContainer(BASE);
  const host = body.HostConfig as Record<string, unknown>;

  test('the agent keeps only its capabilities, with no_new_privs, under the engine init', () => {
    expect(host['CapDrop']).toEqual(['ALL']);
    expect(host['CapAdd']).toEqual([...AGENT_CAPABILITIES]);
    expect(host['SecurityOpt']).toEqual(['no-new-privileges']);
    expect(host['Init']).toBe(true);
    expect(host).not.toHaveProperty('Privileged');
    expect(body.User).toBe('0:0');
  });

  test('no engine network: the driver attaches the only route (to the proxy) itself', () => {
    expect(host['NetworkMode']).toBe('none');
  });

  test('the command waits behind the token gate and keeps its argv', () => {
    expect(body.Entrypoint.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(body.Entrypoint[2]).toContain(`exec 3<${TOKEN_DIR}/fifo`);
    expect(body.Entrypoint[2]).toContain('ulimit -c 0');
    expect(body.Cmd).toEqual(BASE.command);
  });

  test('read-only root; install, identity and token read-only; only /sandbox writable', () => {
    expect(host['ReadonlyRootfs']).toBe(true);
    expect(host['Binds']).toEqual([
      '/state/workspaces/demo:/sandbox:rw',
      '/state/sandboxes/demo/passwd:/etc/passwd:ro',
      '/state/sandboxes/demo/group:/etc/group:ro',
      `/state/sandboxes/demo/token:${TOKEN_DIR}:ro`,
      '/usr/bin/node:/run/openshell/node/bin/node:ro',
      '/opt/openshell:/run/openshell/agent:ro',
      '/state/sandbox-ca:/run/openshell-public/sandbox-ca:ro',
    ]);
  });

  test('/run/openshell is a root-only tmpfs, /tmp is 1777, the public dir 0755', () => {
    expect(host['Tmpfs']).toEqual({
      '/tmp': 'rw,nosuid,nodev,mode=1777',
      '/run/openshell': 'rw,nosuid,nodev,mode=0700',
      '/run/openshell-public': 'rw,nosuid,nodev,mode=0755',
    });
  });

  test('limits map to the engine fields; none set means none sent', () => {
    const limited = planContainer({
      ...BASE,
      limits: { memoryBytes: 256 * 1024 * 1024, pids: 64, cpuMillis: 1500 },
    }).HostConfig;
    expect(limited).toMatchObject({
      Memory: 268_435_456,
      MemorySwap: 268_435_456,
      PidsLimit: 64,
      NanoCpus: 1_500_000_000,
    });
    for (const key of ['Memory', 'PidsLimit', 'NanoCpus']) expect(host).not.toHaveProperty(key);
  });

  test('labels name the owner and the sandbox, env is passed as NAME=value', () => {
    expect(body.Labels).toEqual({
      'io.openshell.owner': BASE.owner,
      'io.openshell.sandbox': 'demo',
    });
    expect(body.Env).toEqual(['PATH=/usr/bin', 'OPENSHELL_SANDBOX_ID=demo']);
  });

  test.for([
    { what: 'a relative command', patch: { command: ['sh'] }, message: 'absolute path' },
    { what: 'an empty command', patch: { command: [] }, message: 'absolute path' },
    { what: 'an invalid env name', patch: { env: { 'A-B': 'x' } }, message: '"A-B"' },
    { what: 'a colon in a bind path', patch: { workspace: '/a:b' }, message: 'no ":"' },
    { what: 'a relative bind path', patch: { workspace: 'rel' }, message: 'absolute' },
    {
      what: 'an invalid run bind name',
      patch: { runBinds: [{ name: '../x', source: '/x' }] },
      message: 'run bind name',
    },
  ])('refuses $what', ({ patch, message }) => {
    expect(() => planContainer({ ...BASE, ...patch })).toThrow(message);
  });
});
