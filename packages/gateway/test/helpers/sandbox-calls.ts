// Small clients for the gateway's streaming RPCs, used by the daemon tests.
import { SandboxPhase, type ExecResponse, type Sandbox } from '@openshell/proto';
import type { TestDaemon } from './test-daemon.js';

export interface ExecResult {
  readonly code: number | undefined;
  readonly signal: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv in the sandbox through the gateway (Exec) with optional stdin; collects the result. */
export function execIn(
  daemon: TestDaemon,
  sandbox: string,
  argv: readonly string[],
  stdin = '',
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const stream = daemon.client().exec();
    let stdout = '';
    let stderr = '';
    stream.on('data', (message: ExecResponse) => {
      const payload = message.payload;
      if (payload?.$case === 'stdout') stdout += Buffer.from(payload.value).toString();
      if (payload?.$case === 'stderr') stderr += Buffer.from(payload.value).toString();
      if (payload?.$case === 'exit') {
        resolve({ code: payload.value.code, signal: payload.value.signal, stdout, stderr });
      }
    });
    stream.on('error', reject);
    stream.write({
      payload: { $case: 'start', value: { sandbox, argv: [...argv], env: {}, tty: false } },
    });
    if (stdin !== '') stream.write({ payload: { $case: 'stdin', value: Buffer.from(stdin) } });
    stream.write({ payload: { $case: 'eof', value: {} } });
  });
}

/** Waits (via GetSandbox) until the sandbox reaches `phase`; fails with its reason otherwise. */
export async function waitPhase(
  daemon: TestDaemon,
  sandbox: string,
  phase: SandboxPhase,
  timeoutMs = 20_000,
): Promise<Sandbox> {
  const deadline = Date.now() + timeoutMs;
  let last: Sandbox | undefined;
  while (Date.now() < deadline) {
    last = (await daemon.call<{ sandbox: Sandbox }>('getSandbox', { sandbox })).sandbox;
    if (last.phase === phase) return last;
    if (
      last.phase === SandboxPhase.SANDBOX_PHASE_ERROR &&
      phase !== SandboxPhase.SANDBOX_PHASE_ERROR
    ) {
      throw new Error(
        `sandbox ${sandbox} went to Error: ${last.phaseReason ?? ''}\n${await daemon.log()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `sandbox ${sandbox} did not reach phase ${String(phase)} (last ${String(last?.phase)} ${last?.phaseReason ?? ''})\n${await daemon.log()}`,
  );
}

/** CreateSandbox with the request's defaults filled in. */
export async function createSandbox(
  daemon: TestDaemon,
  request: {
    name: string;
    policyYaml?: string;
    command?: string[];
    providers?: string[];
    deleteOnExit?: boolean;
  },
): Promise<Sandbox> {
  const response = await daemon.call<{ sandbox: Sandbox }>('createSandbox', {
    name: request.name,
    labels: { test: 'gateway' },
    spec: {
      providers: request.providers ?? [],
      env: {},
      command: request.command ?? [],
      tty: false,
      deleteOnExit: request.deleteOnExit ?? false,
    },
    ...(request.policyYaml === undefined
      ? {}
      : { policyYaml: request.policyYaml, policyFileName: 'test.yaml' }),
  });
  return response.sandbox;
}
