import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ComputeDriver } from '../../compute-driver.js';

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export type ExecIdentity = 'sandbox' | 'agent';

/**
 * Joins cgroups first (so limits apply to the command), then every namespace of the
 * sandbox's init, its root and cwd, then drops privileges the way the real processes
 * have them (nsenter alone would leave full root capabilities).
 */
const JOIN_SCRIPT = `
while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done
shift
exec "$@"
`;

/**
 * Runs argv inside a running sandbox, as the sandbox user (its host uid, no capabilities,
 * no_new_privs) or as the agent (uid 0 with only the agent's capabilities). Stands in for
 * the sandbox-agent's exec path, which uses the native launcher instead of setpriv.
 */
export async function execInSandbox(
  driver: ComputeDriver,
  id: string,
  argv: readonly string[],
  as: ExecIdentity = 'sandbox',
): Promise<ExecResult> {
  const handle = await driver.get(id);
  if (handle?.state !== 'running') throw new Error(`sandbox ${id} is not running`);
  const { cgroups } = await driver.resources(id);
  const { uid, gid } = handle.identity;
  const privileges =
    as === 'sandbox'
      ? [
          '--reuid',
          String(uid),
          '--regid',
          String(gid),
          '--clear-groups',
          '--inh-caps=-all',
          '--bounding-set=-all',
        ]
      : ['--inh-caps=-all', '--bounding-set=-all,+setuid,+setgid,+setpcap,+kill'];
  const args = [
    '-c',
    JOIN_SCRIPT,
    'exec-in-sandbox',
    ...cgroups.map((dir) => join(dir, 'cgroup.procs')),
    '--',
    '/usr/bin/nsenter',
    '-t',
    String(handle.initPid),
    '-m',
    '-u',
    '-i',
    '-n',
    '-p',
    '-C',
    '-r',
    '-w',
    '--',
    '/usr/bin/setpriv',
    ...privileges,
    '--no-new-privs',
    '--',
    ...argv,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', args, {
      env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', HOME: '/sandbox' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs a shell snippet inside the sandbox (argv-safe: values go in as $1, $2, ...). */
export function shInSandbox(
  driver: ComputeDriver,
  id: string,
  script: string,
  params: readonly string[] = [],
  as: ExecIdentity = 'sandbox',
): Promise<ExecResult> {
  return execInSandbox(driver, id, ['/bin/sh', '-c', script, 'sh', ...params], as);
}
