import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OpenShellError, isOpenShellError } from '@openshell/policy-schema';
import { callUnary } from '../gateway/call-unary.js';
import type { GatewayConnection } from '../gateway/gateway-client.js';
import type { Progress } from '../render/progress.js';
import { waitForReady } from '../sandbox/wait-ready.js';
import { uploadPath } from '../transfer/transfer-rpc.js';
import { execCapture } from './exec-capture.js';
import type { HostProbe, ProveDeps } from './run-prove.js';

/** The host the CLI runs on, as the filesystem and /proc show it. */
export const LOCAL_HOST_PROBE: Omit<HostProbe, 'local'> = {
  async plantTmpMarker(name) {
    const path = join('/tmp', name);
    // wx: never follow or overwrite something another user planted under this name.
    await writeFile(path, '', { flag: 'wx', mode: 0o644 });
    return () => rm(path, { force: true });
  },
  async takeTmpFile(name) {
    const path = join('/tmp', name);
    const present = (await readdir('/tmp')).includes(name);
    if (present) await rm(path, { force: true });
    return present;
  },
  async listRoot() {
    return readdir('/root').catch(() => undefined);
  },
  async countProcesses() {
    return (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry)).length;
  },
};

/** The local daemon listens on loopback; any other endpoint is a gateway on another host. */
function isLoopbackEndpoint(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
  } catch {
    return false;
  }
}

/** A not-found on delete means there is nothing left to remove (e.g. create never got through). */
function ignoreNotFound(error: unknown): void {
  if (
    isOpenShellError(error) &&
    (error.code === 'ERR_SANDBOX_NOT_FOUND' || error.code === 'ERR_PROVIDER_NOT_FOUND')
  ) {
    return;
  }
  throw error;
}

/** ProveDeps over a gateway connection. */
export function createGatewayProveDeps(conn: GatewayConnection, progress: Progress): ProveDeps {
  const client = conn.client;
  return {
    async createProvider(name, key, value, allowedHosts) {
      await callUnary(client.createProvider.bind(client), {
        name,
        type: 'generic',
        credentials: { [key]: value },
        allowedHosts,
      });
    },
    async deleteProvider(name) {
      await callUnary(client.deleteProvider.bind(client), { name }).catch(ignoreNotFound);
    },
    async createSandbox({ name, policy, providers, pidsMax, memoryBytes }) {
      const res = await callUnary(client.createSandbox.bind(client), {
        name,
        labels: { 'openshell.prove': 'true' },
        spec: {
          providers,
          env: {},
          command: [],
          tty: false,
          pidsMax,
          memoryBytes,
          deleteOnExit: false,
        },
        ...(policy.input === undefined
          ? {}
          : { policyYaml: policy.input.yaml, policyFileName: policy.input.fileName }),
      });
      if (res.sandbox === undefined) {
        throw new OpenShellError(
          'ERR_INTERNAL',
          'the gateway answered CreateSandbox without a sandbox',
        );
      }
      await waitForReady(conn, res.sandbox.id, name, progress);
    },
    async deleteSandbox(name) {
      await callUnary(client.deleteSandbox.bind(client), { sandbox: name }).catch(ignoreNotFound);
    },
    async upload(sandbox, localFile, destDir) {
      await uploadPath(conn, sandbox, localFile, destDir, { gitIgnore: false });
    },
    exec: (sandbox, argv, timeoutMs) => execCapture(conn, sandbox, argv, timeoutMs),
    host: { ...LOCAL_HOST_PROBE, local: isLoopbackEndpoint(conn.endpoint) },
    progress,
    warn(message) {
      progress.stop();
      process.stderr.write(`! ${message}\n`);
    },
    now: () => Date.now(),
  };
}
