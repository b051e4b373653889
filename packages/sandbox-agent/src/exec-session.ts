import { OpenShellError } from '@openshell/policy-schema';
import type { ExecSession as ExecCommand, SessionRequest } from '@openshell/proto';
import { toExitStatus } from './exit-status.js';
import type { Logger } from './logger.js';
import type { LaunchedProcess, OutputChannelName, ProcessLauncher } from './process-launcher.js';
import type { SandboxConfig } from './sandbox-env.js';
import {
  exitedEvent,
  failedEvent,
  outputEvent,
  startedEvent,
  toForwardableSignal,
  type Session,
  type SessionChannel,
  type SessionInputValue,
} from './session-events.js';
import { toLaunchRequest } from './to-launch-request.js';

export interface ProcessSessionDeps {
  readonly launcher: ProcessLauncher;
  readonly config: SandboxConfig;
  readonly log: Logger;
}

/**
 * `sandbox exec`: one command, with or without a terminal, whose stdin the client feeds
 * and whose exit ends the session. A timeout or a vanished client kills the whole process
 * group with SIGKILL.
 */
export class ExecSession implements Session {
  private process: LaunchedProcess | undefined;
  /** Inputs that arrived while the launcher was still starting the process. */
  private pending: SessionInputValue[] = [];
  private readonly early: SessionRequest[] = [];
  private started = false;
  private timedOut = false;
  private abandoned = false;

  constructor(
    private readonly deps: ProcessSessionDeps,
    private readonly command: ExecCommand,
    readonly channel: SessionChannel,
  ) {}

  /** Runs the session to its end; never rejects (failures become SessionFailed). */
  async run(): Promise<void> {
    const { sessionId } = this.command;
    const spec = this.command.process;
    try {
      if (spec === undefined || spec.argv.length === 0) {
        throw new OpenShellError(
          'ERR_USAGE',
          `exec session ${sessionId}: process.argv is empty; name a command to run`,
        );
      }
      const request = toLaunchRequest(spec, this.deps.config, (channel, data) =>
        this.emitOutput(channel, data),
      );
      this.process = await this.deps.launcher.spawn(request);
    } catch (error) {
      this.channel.send(failedEvent(sessionId, error));
      return;
    }
    const proc = this.process;
    this.channel.send(startedEvent(sessionId, proc.pid));
    this.started = true;
    for (const event of this.early.splice(0)) this.channel.send(event);
    if (this.abandoned) proc.signal('SIGKILL');
    for (const input of this.pending.splice(0)) this.apply(proc, input);
    const timer = this.armTimeout(proc);
    const exit = await proc.exited;
    if (timer !== undefined) clearTimeout(timer);
    this.channel.send(
      exitedEvent(proc.pid, toExitStatus(exit, this.timedOut), { main: false, sessionId }),
    );
  }

  input(input: SessionInputValue): void {
    if (this.process === undefined) this.pending.push(input);
    else this.apply(this.process, input);
  }

  abandon(): void {
    this.abandoned = true;
    this.process?.signal('SIGKILL');
  }

  private emitOutput(channel: OutputChannelName, data: Buffer): void {
    const event = outputEvent(this.command.sessionId, channel, data);
    // Output can only follow SessionStarted; the queue covers the ticks between the
    // launcher's spawn and this session learning the pid.
    if (this.started) this.channel.send(event);
    else this.early.push(event);
  }

  private armTimeout(proc: LaunchedProcess): NodeJS.Timeout | undefined {
    const timeoutMs = this.command.timeoutMs;
    if (timeoutMs === undefined || timeoutMs === 0) return undefined;
    return setTimeout(() => {
      this.timedOut = true;
      proc.signal('SIGKILL');
    }, timeoutMs);
  }

  private apply(proc: LaunchedProcess, input: SessionInputValue): void {
    switch (input.$case) {
      case 'data':
        proc.write(input.value);
        break;
      case 'eof':
        proc.endInput();
        break;
      case 'resize':
        proc.resize(input.value);
        break;
      case 'signal': {
        const signal = toForwardableSignal(input.value);
        if (signal === undefined)
          this.deps.log('ignored unknown signal', {
            session: this.command.sessionId,
            signal: input.value,
          });
        else proc.signal(signal);
        break;
      }
      case 'cancel':
        proc.signal('SIGKILL');
        break;
      case 'detach':
        // Only connect sessions detach; an exec has no one to come back to it.
        this.deps.log('ignored detach for an exec session', { session: this.command.sessionId });
        break;
    }
  }
}
