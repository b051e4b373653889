import { spawn } from 'node:child_process';
import { OpenShellError } from '@openshell/policy-schema';

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The only environment host tools get: the gateway's own environment (proxy settings,
 * NODE_OPTIONS, credentials) must not leak into ip, nft or bubblewrap.
 */
export const TOOL_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
  LC_ALL: 'C',
};

/** Runs argv (no shell) with optional stdin and collects its output; never throws on exit code. */
export function runCommand(argv: readonly string[], input?: string): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new OpenShellError('ERR_INTERNAL', 'runCommand: empty argv');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: TOOL_ENV,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', function onSpawnError(cause) {
      reject(
        new OpenShellError('ERR_HOST_UNSUPPORTED', `cannot run ${file}: ${cause.message}`, {
          cause,
        }),
      );
    });
    child.on('close', function onClose(code) {
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
