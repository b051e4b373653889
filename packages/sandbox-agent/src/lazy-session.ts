import { OpenShellError } from '@openshell/policy-schema';
import {
  failedEvent,
  type Session,
  type SessionChannel,
  type SessionInputValue,
} from './session-events.js';

/** A session the engine can run: the Session controls plus the run to its end. */
export type RunnableSession = Session & { run(): Promise<void> };

/**
 * A session whose implementation is imported when the session starts. Upload and download
 * bring the tar codec (a fifth of the agent's code); imported lazily, it stays out of the
 * code node parses at every sandbox start, where it would only delay the first command.
 * Input that arrives while the module loads is queued and delivered in order, after the
 * real session's run has begun, exactly as if it had existed from the start.
 */
export class LazySession implements Session {
  private target: RunnableSession | undefined;
  private queued: SessionInputValue[] = [];
  private abandoned = false;

  constructor(
    private readonly sessionId: string,
    readonly channel: SessionChannel,
    private readonly load: () => Promise<RunnableSession>,
  ) {}

  /** Loads, starts and runs the real session; never rejects (a failed load is SessionFailed). */
  async run(): Promise<void> {
    let target: RunnableSession;
    try {
      target = await this.load();
    } catch (cause) {
      this.channel.send(
        failedEvent(
          this.sessionId,
          new OpenShellError('ERR_INTERNAL', `cannot load the session code: ${String(cause)}`, {
            cause,
          }),
        ),
      );
      return;
    }
    this.target = target;
    const running = target.run();
    for (const input of this.queued) target.input(input);
    this.queued = [];
    if (this.abandoned) target.abandon();
    await running;
  }

  input(input: SessionInputValue): void {
    if (this.target === undefined) this.queued.push(input);
    else this.target.input(input);
  }

  abandon(): void {
    if (this.target === undefined) this.abandoned = true;
    else this.target.abandon();
  }
}
