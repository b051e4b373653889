// Host-side set-up for the escape battery: the service address the sandboxes route to, a
// TLS certificate for it, the static probe binary and the planted secrets — each with its
// undo, so afterAll leaves the host as it found it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The workspace root: the agent's relative pnpm links resolve inside it when bound. */
export const WORKSPACE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
// The single-file bundle is what deployments start (start-up time); the battery attacks that.
export const AGENT_ENTRY = 'packages/sandbox-agent/dist/agent.bundle.mjs';
const LAUNCHER = 'packages/native-enforcer/native/build/openshell-launcher';
const PROBE_SOURCE = fileURLToPath(new URL('../fixtures/battery-probe.c', import.meta.url));

/** Fails with the build command when a piece of the runtime has not been built. */
export function assertRuntimeBuilt(): void {
  for (const [path, pkg] of [
    [AGENT_ENTRY, 'sandbox-agent'],
    [LAUNCHER, 'native-enforcer'],
  ] as const) {
    if (!existsSync(join(WORKSPACE_ROOT, path))) {
      throw new Error(`${path} is missing: run \`pnpm --filter @openshell/${pkg} build\` first`);
    }
  }
}

/**
 * Puts `address/32` on the host's loopback device. The supervisor and the stand-in proxy
 * listen there; each sandbox reaches it through the /32 route the driver adds via its veth
 * pair, and nothing outside this host can (it is not on any external link).
 */
export async function addServiceAddress(address: string): Promise<() => Promise<void>> {
  await run('ip', ['addr', 'replace', `${address}/32`, 'dev', 'lo']);
  return async () => {
    await run('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']);
  };
}

export interface ServiceTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Directory holding only `ca.pem` (the self-signed certificate), bound into sandboxes. */
  readonly caDir: string;
}

/** A self-signed P-256 certificate for `address` (its own CA), made with openssl. */
export async function makeServiceTls(dir: string, address: string): Promise<ServiceTls> {
  const caDir = join(dir, 'ca');
  await mkdir(caDir, { recursive: true });
  const certPath = join(caDir, 'ca.pem');
  const keyPath = join(dir, 'service.key');
  await run('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
    ...['-nodes', '-days', '1', '-subj', '/CN=openshell-test-supervisor'],
    ...['-addext', `subjectAltName=IP:${address}`, '-keyout', keyPath, '-out', certPath],
  ]);
  // The directory is bound read-only into the sandbox; the sandbox user must not need it,
  // but the agent (root without DAC_OVERRIDE) must read through it.
  await chmod(dir, 0o755);
  await chmod(caDir, 0o755);
  await chmod(certPath, 0o644);
  return { cert: await readFile(certPath), key: await readFile(keyPath), caDir };
}

/** Compiles the probe static (the sandbox has no libc guarantees beyond the host's /usr). */
export async function buildProbe(dir: string): Promise<string> {
  const out = join(dir, 'battery-probe');
  await run('cc', ['-O2', '-static', '-Wall', '-Wextra', '-Werror', '-o', out, PROBE_SOURCE]);
  return out;
}

export interface PlantedSecret {
  readonly path: string;
  readonly content: string;
  remove(): Promise<void>;
}

/** Writes a secret file (0600 in a 0700 directory, like ~/.ssh) owned by `uid`. */
export async function plantSecret(path: string, content: string, uid = 0): Promise<PlantedSecret> {
  const dir = join(path, '..');
  const created = !existsSync(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path, content, { mode: 0o600 });
  if (uid !== 0) await run('chown', ['-R', `${String(uid)}:${String(uid)}`, dir]);
  return {
    path,
    content,
    async remove() {
      await rm(created ? dir : path, { recursive: true, force: true });
    },
  };
}

/** A scratch directory under /var/tmp (outside every sandbox's view). */
export function makeScratch(): Promise<string> {
  return mkdtemp('/var/tmp/openshell-battery-');
}
