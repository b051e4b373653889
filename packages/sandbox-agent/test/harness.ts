// Starts the built agent in file mode as a real process and drives it over its control
// socket, the way the gateway (or a debugging client) would.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  OutputChannel,
  type ProcessSpec,
  type SessionRequest,
  type SessionResponse,
} from '@openshell/proto';
import { createControlClient, type SupervisorControlClient } from '../src/index.js';

export const AGENT_BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const SANDBOX_UID = 10001;
/** Set in the agent's own environment; no sandboxed process may see it. */
export const CANARY = 'OPENSHELL_TEST_CANARY';

export function assertBuilt(): void {
  if (!existsSync(AGENT_BIN)) {
    throw new Error(
      `${AGENT_BIN} is missing: run \`pnpm --filter @openshell/sandbox-agent build\` first`,
    );
  }
}

/** A policy that lets ordinary commands run and write only under `home` and /tmp. */
export function testPolicy(home: string, extra = ''): string {
  return `version: 1
filesystem_policy:
  include_workdir: false
  read_only: [/usr, /lib, /lib64, /bin, /etc, /proc, /dev/urandom]
  read_write: [${home}, /tmp, /dev/null]
landlock:
  compatibility: hard_requirement
process:
  run_as_user: sandbox
  run_as_group: sandbox
${extra}`;
}

export function spec(argv: string[], extra: Partial<ProcessSpec> = {}): ProcessSpec {
  return { argv, env: {}, workdir: '', tty: false, user: '', group: '', ...extra };
}

export interface AgentOptions {
  readonly main?: string[];
  readonly mainTty?: boolean;
  /** `process.user` of the main process spec. */
  readonly mainUser?: string;
  /** Run the agent under this prefix (e.g. bwrap with a PID namespace). */
  readonly wrap?: string[];
  readonly extraArgs?: string[];
}

export interface Agent {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly home: string;
  readonly socket: string;
  stderr(): string;
  connect(): Promise<ControlClient>;
  /** Sends `signal` (default SIGTERM) and resolves with the agent's exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  cleanup(): void;
}

/** Starts `dist/bin.js --spec-file ... --control-socket ...` in a fresh temp dir. */
export async function startAgent(options: AgentOptions = {}): Promise<Agent> {
  assertBuilt();
  const dir = mkdtempSync('/tmp/osa-test-');
  // mkdtemp makes it 0700; the sandbox user must be able to reach its home below it.
  chmodSync(dir, 0o755);
  const home = join(dir, 'home');
  mkdirSync(home);
  chownSync(home, SANDBOX_UID, SANDBOX_UID);
  const socket = join(dir, 'control.sock');
  writeFileSync(join(dir, 'policy.yaml'), testPolicy(home));
  const main = options.main ?? ['sleep', '600'];
  writeFileSync(
    join(dir, 'spec.json'),
    JSON.stringify({
      sandboxId: 'test',
      process: { argv: main, tty: options.mainTty ?? false, user: options.mainUser ?? '' },
      policyFile: 'policy.yaml',
    }),
  );
  const argv = [
    AGENT_BIN,
    '--spec-file',
    join(dir, 'spec.json'),
    '--control-socket',
    socket,
    '--home',
    home,
  ];
  argv.push(...(options.extraArgs ?? []));
  const [command, ...prefix] = [...(options.wrap ?? []), process.execPath];
  const child = spawn(command ?? process.execPath, [...prefix, ...argv], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', [CANARY]: 'agent-secret' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await waitUntil(
    () => stderr.includes('control socket listening'),
    10_000,
    () => `agent did not start:\n${stderr}`,
  );
  return {
    child,
    dir,
    home,
    socket,
    stderr: () => stderr,
    connect: () => ControlClient.open(socket),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    cleanup() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitUntil(
  check: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface SessionResult {
  readonly pid: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly exit: { code?: number; signal?: string; timedOut: boolean } | undefined;
  readonly failed: { code: string; message: string } | undefined;
  readonly done: { bytes: number; entries: number } | undefined;
  readonly raw: Buffer;
}

/** One control-socket connection; events are recorded and awaited by predicate. */
export class ControlClient {
  readonly events: SessionRequest[] = [];
  private readonly waiters = new Set<() => void>();
  private ended = false;

  private constructor(
    private readonly client: SupervisorControlClient,
    private readonly stream: ReturnType<SupervisorControlClient['session']>,
  ) {
    stream.on('data', (event: SessionRequest) => {
      this.events.push(event);
      for (const wake of this.waiters) wake();
    });
    stream.on('error', () => undefined);
    stream.on('end', () => {
      this.ended = true;
      for (const wake of this.waiters) wake();
    });
  }

  static async open(socket: string): Promise<ControlClient> {
    const client = createControlClient(socket);
    const control = new ControlClient(client, client.session());
    await control.waitFor((e) => e.payload?.$case === 'hello');
    return control;
  }

  send(command: SessionResponse['payload']): void {
    this.stream.write({ payload: command });
  }

  input(
    sessionId: string,
    input: NonNullable<SessionResponse['payload'] & { $case: 'sessionInput' }>['value']['input'],
  ): void {
    this.send({ $case: 'sessionInput', value: { sessionId, input } });
  }

  waitFor(match: (event: SessionRequest) => boolean, timeoutMs = 10_000): Promise<SessionRequest> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.events.find(match);
        if (found !== undefined) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        } else if (this.ended) {
          this.waiters.delete(check);
          clearTimeout(timer);
          reject(new Error('control stream ended while waiting'));
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out; events so far: ${JSON.stringify(this.events.map((e) => e.payload?.$case))}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Everything this client received for one session so far. */
  result(sessionId: string): SessionResult {
    let stdout = Buffer.alloc(0);
    let stderr = '';
    let pid: number | undefined;
    let exit: SessionResult['exit'];
    let failed: SessionResult['failed'];
    let done: SessionResult['done'];
    for (const { payload } of this.events) {
      if (payload === undefined) continue;
      const v = payload.value as { sessionId?: string };
      if (v.sessionId !== sessionId) continue;
      if (payload.$case === 'sessionStarted') pid = payload.value.pid;
      if (payload.$case === 'sessionOutput') {
        if (payload.value.channel === OutputChannel.OUTPUT_CHANNEL_STDERR)
          stderr += payload.value.data.toString();
        else stdout = Buffer.concat([stdout, payload.value.data]);
      }
      if (payload.$case === 'processExited') exit = payload.value.exit as SessionResult['exit'];
      if (payload.$case === 'sessionFailed')
        failed = { code: payload.value.code, message: payload.value.message };
      if (payload.$case === 'transferDone')
        done = { bytes: payload.value.bytes, entries: payload.value.entries };
    }
    return { pid, stdout: stdout.toString(), stderr, exit, failed, done, raw: stdout };
  }

  /** Waits until the session ended (exit, failure or transfer done) and returns its result. */
  async finished(sessionId: string, timeoutMs = 10_000): Promise<SessionResult> {
    await this.waitFor((e) => {
      const c = e.payload?.$case;
      const v = e.payload?.value as { sessionId?: string } | undefined;
      return (
        v?.sessionId === sessionId &&
        (c === 'processExited' || c === 'sessionFailed' || c === 'transferDone')
      );
    }, timeoutMs);
    return this.result(sessionId);
  }

  /** Runs one exec session to completion. */
  async exec(
    sessionId: string,
    process: ProcessSpec,
    options: { stdin?: string; timeoutMs?: number } = {},
  ): Promise<SessionResult> {
    this.send({
      $case: 'exec',
      value: {
        sessionId,
        process,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      },
    });
    if (options.stdin !== undefined) {
      this.input(sessionId, { $case: 'data', value: Buffer.from(options.stdin) });
      this.input(sessionId, { $case: 'eof', value: {} });
    }
    return this.finished(sessionId);
  }

  close(): void {
    this.stream.end();
    this.client.close();
  }
}
