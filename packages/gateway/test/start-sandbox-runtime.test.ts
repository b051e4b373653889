import { DEFAULT_POLICY, hashPolicy, parsePolicy } from '@openshell/policy-schema';
import { describe, expect, test } from 'vitest';
import type { ComputeDriver, SandboxHandle, SandboxSpec } from '../src/drivers/compute-driver.js';
import {
  startSandboxRuntime,
  type SandboxRuntimeOptions,
} from '../src/runtime/start-sandbox-runtime.js';

// The composition's contract with the driver, checked on the spec it hands over (a recording
// driver injected in place of the local one; escape-battery.test.ts runs the real thing).
const TOKEN = 'token-7c1d9e0f';

function recordingDriver(specs: SandboxSpec[]): ComputeDriver {
  const refuse = (): Promise<never> => Promise.reject(new Error('not used by startSandboxRuntime'));
  return {
    name: 'recording',
    create(spec) {
      specs.push(spec);
      // startSandboxRuntime passes the handle through untouched; only its identity matters here.
      return Promise.resolve({ id: spec.id } as SandboxHandle);
    },
    get: refuse,
    list: refuse,
    delete: refuse,
    resources: refuse,
    waitExit: refuse,
  };
}

function options(driver: ComputeDriver, entry = 'packages/sandbox-agent/dist/bin.js') {
  return {
    driver,
    id: 'demo',
    supervisor: { address: '10.9.0.1', port: 7443, caDir: '/srv/ca' },
    proxy: { address: '10.9.0.1', port: 3128 },
    token: TOKEN,
    main: ['bash'],
    agent: { root: '/opt/openshell', entry },
  } satisfies SandboxRuntimeOptions;
}

describe('startSandboxRuntime', () => {
  test('hands the driver the agent command, binds, endpoints and the policy filesystem', async () => {
    const specs: SandboxSpec[] = [];
    const runtime = await startSandboxRuntime(options(recordingDriver(specs)));
    const [spec] = specs;
    expect(spec).toMatchObject({
      id: 'demo',
      filesystem: DEFAULT_POLICY.filesystem_policy,
      proxy: { address: '10.9.0.1', port: 3128 },
      supervisor: { address: '10.9.0.1', port: 7443 },
      token: TOKEN,
      runBinds: [
        { name: 'agent', source: '/opt/openshell' },
        { name: 'gateway-ca', source: '/srv/ca' },
      ],
    });
    expect(spec?.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(spec?.command.slice(4, 6)).toEqual([
      '/usr/bin/node',
      '/run/openshell/agent/packages/sandbox-agent/dist/bin.js',
    ]);
    expect(spec?.command).toEqual(
      expect.arrayContaining(['--gateway', '10.9.0.1:7443', '--token-fd', '3', '--home']),
    );
    expect(spec?.command.join(' ')).not.toContain('--insecure');
    // The token travels only in spec.token (the driver's fd 3), never in argv or env.
    expect(JSON.stringify(spec?.command)).not.toContain(TOKEN);
    expect(JSON.stringify(spec?.env ?? {})).not.toContain(TOKEN);
    expect(runtime.policyHash).toBe(hashPolicy(DEFAULT_POLICY));
    expect(parsePolicy(runtime.policyYaml).policy).toEqual(DEFAULT_POLICY);
  });

  test.for([{ entry: '../outside/bin.js' }, { entry: '/abs/bin.js' }])(
    'refuses agent entry $entry outside the bound root, before creating anything',
    async ({ entry }) => {
      const specs: SandboxSpec[] = [];
      await expect(
        startSandboxRuntime(options(recordingDriver(specs), entry)),
      ).rejects.toMatchObject({ code: 'ERR_USAGE' });
      expect(specs).toHaveLength(0);
    },
  );

  test('an entry inside the root is accepted (positive control)', async () => {
    const specs: SandboxSpec[] = [];
    await startSandboxRuntime(options(recordingDriver(specs), './dist/../dist/bin.js'));
    expect(specs[0]?.command[5]).toBe('/run/openshell/agent/dist/bin.js');
  });
});
