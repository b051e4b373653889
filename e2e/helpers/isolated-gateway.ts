// What every e2e file needs to run the real `openshell` binary against a gateway of its own:
// a temp dir, free ports, and the OPENSHELL_* environment that gives the auto-started or
// explicitly started gateway this file's own service address, pool, uids, names and state —
// so e2e files run beside each other and beside a user's own gateway.
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const CLI = fileURLToPath(new URL('../../packages/cli/bin/run.js', import.meta.url));

/**
 * The README walkthrough's policy addition: curl may read example.com (GET only), appended to
 * `policy get --full` output to make the next revision.
 */
export const EXAMPLE_SITE_POLICY = [
  'network_policies:',
  '  example_site:',
  '    name: example-site',
  '    endpoints:',
  '      - host: example.com',
  '        port: 443',
  '        access: read-only',
  '    binaries:',
  '      - path: /usr/bin/curl',
  '',
].join('\n');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The host layout one test file owns. */
export interface GatewayNames {
  /** 1–4 lowercase letters: host object names and the cgroup parent. */
  readonly prefix: string;
  readonly serviceAddress: string;
  readonly pool: string;
  readonly uidBase: number;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The environment a CLI (and the daemon it starts) needs to use `names` and `dir` only. */
export async function isolatedEnv(
  dir: string,
  names: GatewayNames,
  extra: NodeJS.ProcessEnv = {},
): Promise<NodeJS.ProcessEnv> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir,
    OPENSHELL_CONFIG_DIR: join(dir, 'config'),
    OPENSHELL_STATE_DIR: join(dir, 'state'),
    OPENSHELL_SERVICE_ADDRESS: names.serviceAddress,
    OPENSHELL_ADDRESS_POOL: names.pool,
    OPENSHELL_SUPERVISOR_PORT: String(await freePort()),
    OPENSHELL_PROXY_PORT: String(await freePort()),
    OPENSHELL_UID_BASE: String(names.uidBase),
    OPENSHELL_NAME_PREFIX: names.prefix,
    OPENSHELL_CGROUP_PARENT: `openshell-test-${names.prefix}`,
    ...extra,
  };
}

/** Runs the built `openshell` with `env` in `cwd`, never throwing: the exit code is data. */
export function runOpenshell(
  env: NodeJS.ProcessEnv,
  cwd: string,
  args: readonly string[],
  timeoutMs = 90_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env, cwd, timeout: timeoutMs, maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Everything on the host named after `names`' prefix, uid range or cgroup parent. */
export async function hostObjects(names: GatewayNames): Promise<string[]> {
  const { prefix, uidBase } = names;
  const found: string[] = [];
  const netns = (await run('ip', ['netns', 'list'])).stdout;
  found.push(...netns.split('\n').filter((line) => line.startsWith(`${prefix}-`)));
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout;
  found.push(...links.split('\n').filter((line) => line.includes(`: ${prefix}h`)));
  const ps = (await run('ps', ['-e', '-o', 'uid=,pid=,comm='])).stdout;
  found.push(
    ...ps
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([uid]) => Number(uid) >= uidBase && Number(uid) < uidBase + 64)
      .map((fields) => `process ${fields.join(' ')}`),
  );
  for (const hierarchy of await readdir('/sys/fs/cgroup')) {
    const parent = join('/sys/fs/cgroup', hierarchy, `openshell-test-${prefix}`);
    const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
    found.push(
      ...entries.filter((e) => e.isDirectory()).map((e) => `cgroup ${join(parent, e.name)}`),
    );
  }
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  found.push(...mounts.split('\n').filter((line) => line.includes(`/run/netns/${prefix}-`)));
  return found;
}
