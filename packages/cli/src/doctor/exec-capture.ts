import { OpenShellError } from '@openshell/policy-schema';
import type { ExecResponse } from '@openshell/proto';
import type { GatewayConnection } from '../gateway/gateway-client.js';
import { fromGrpcError } from '../gateway/grpc-error.js';
import type { ExecOutput } from './run-prove.js';

/**
 * Runs one command through Exec without a terminal and collects its output (stdin closed
 * at once). For commands the CLI reads itself; `runExec` is for a user's session.
 */
export function execCapture(
  conn: Pick<GatewayConnection, 'client'>,
  sandbox: string,
  argv: string[],
  timeoutMs: number,
): Promise<ExecOutput> {
  return new Promise<ExecOutput>((resolve, reject) => {
    const call = conn.client.exec();
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let exit: ExecOutput | undefined;
    call.on('data', function onExecResponse(msg: ExecResponse) {
      const payload = msg.payload;
      if (payload?.$case === 'stdout') stdout.push(payload.value);
      else if (payload?.$case === 'stderr') stderr.push(payload.value);
      else if (payload?.$case === 'exit') {
        exit = {
          code: payload.value.code,
          signal: payload.value.signal,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
        };
        call.end();
      }
    });
    call.on('error', (err: unknown) => {
      if (exit === undefined) reject(fromGrpcError(err));
    });
    call.on('end', () => {
      if (exit !== undefined) resolve(exit);
      else
        reject(
          new OpenShellError(
            'ERR_GATEWAY_UNAVAILABLE',
            `the gateway ended the exec session in sandbox "${sandbox}" without an exit status`,
          ),
        );
    });
    call.write({
      payload: {
        $case: 'start',
        value: { sandbox, argv, env: {}, tty: false, timeoutMs },
      },
    });
    call.write({ payload: { $case: 'eof', value: {} } });
  });
}
