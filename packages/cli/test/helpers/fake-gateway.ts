import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Server,
  ServerCredentials,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { OpenShellService, ServingStatus, type OpenShellServer } from '@openshell/proto';
import { createFakeSandboxService, type FakeSandboxOptions } from './fake-sandbox-service.js';
import type { TestCerts } from './test-certs.js';

export interface FakeGatewayOptions extends FakeSandboxOptions {
  readonly certs: TestCerts;
  /** Extra or overriding handlers (policy, providers, logs fakes). */
  readonly handlers?: Partial<OpenShellServer>;
  /** 0 = any free port. */
  readonly port?: number;
  readonly version?: string;
}

export type FakeGateway = Awaited<ReturnType<typeof startFakeGateway>>;

/**
 * A real grpc-js OpenShell server over mTLS (client certificates required, as the daemon
 * does) on 127.0.0.1, with in-memory sandboxes. RPCs without a handler answer UNIMPLEMENTED,
 * like an older gateway would.
 */
export async function startFakeGateway(options: FakeGatewayOptions) {
  const calls: string[] = [];
  const sandboxService = createFakeSandboxService(calls, options);
  const providerRequests: unknown[] = [];
  const base: Partial<OpenShellServer> = {
    health(_call, callback) {
      calls.push('health');
      callback(null, {
        status: ServingStatus.SERVING_STATUS_SERVING,
        version: options.version ?? '0.1.0-fake',
      });
    },
    getStatus(_call, callback) {
      calls.push('getStatus');
      callback(null, {
        version: options.version ?? '0.1.0-fake',
        startedAtMs: Date.now() - 5000,
        driver: 'local',
        proxyConnected: true,
        sandboxCount: sandboxService.sandboxes.size,
        authMode: 'mtls',
      });
    },
    createProvider(call, callback) {
      calls.push('createProvider');
      providerRequests.push(call.request);
      callback(null, {
        provider: {
          id: 'prov-1',
          name: call.request.name,
          type: call.request.type,
          credentialKeys: Object.keys(call.request.credentials),
          allowedHosts: [],
          createdAtMs: Date.now(),
        },
      });
    },
    ...sandboxService.handlers,
    ...options.handlers,
  };
  const impl: UntypedServiceImplementation = {};
  for (const method of Object.keys(OpenShellService)) {
    impl[method] =
      (base as UntypedServiceImplementation)[method] ??
      ((call: unknown, callback?: (err: unknown) => void) => {
        calls.push(method);
        const err = { code: status.UNIMPLEMENTED, details: `${method} not in the fake` };
        if (typeof callback === 'function') callback(err);
        else (call as { emit(e: string, v: unknown): void }).emit('error', err);
      });
  }
  const server = new Server();
  server.addService(OpenShellService, impl);
  const creds = ServerCredentials.createSsl(
    options.certs.ca,
    [{ private_key: options.certs.serverKey, cert_chain: options.certs.serverCert }],
    true,
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, creds, (err, bound) =>
      err === null ? resolve(bound) : reject(err),
    );
  });
  const endpoint = `https://127.0.0.1:${port}`;

  return {
    endpoint,
    port,
    calls,
    providerRequests,
    ...sandboxService,
    /** Writes a config dir entry for this gateway (metadata + mTLS material) as `gateway start` would. */
    async writeConfig(configDir: string, name = 'local'): Promise<void> {
      const dir = join(configDir, 'gateways', name);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(join(dir, 'metadata.json'), JSON.stringify({ name, endpoint }));
      await writeFile(join(dir, 'ca.pem'), options.certs.ca);
      await writeFile(join(dir, 'client.pem'), options.certs.clientCert);
      await writeFile(join(dir, 'client.key'), options.certs.clientKey, { mode: 0o600 });
    },
    close(): Promise<void> {
      return new Promise((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
