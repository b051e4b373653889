import { OpenShellError } from '@openshell/policy-schema';
import { createDetachScanner } from './detach-keys.js';
import type { Logger } from './logger.js';
import type { LaunchedProcess, OutputChannelName, ProcessExit } from './process-launcher.js';
import {
  outputEvent,
  toForwardableSignal,
  type Session,
  type SessionChannel,
  type SessionInputValue,
} from './session-events.js';

/** Output kept for the first viewer (the main process's start-up banner); older bytes drop. */
const BACKLOG_LIMIT_BYTES = 64 * 1024;

export interface AttachableOptions {
  /** Connect shells die with a viewer that leaves without detaching; the main process never. */
  readonly killOnAbandon: boolean;
  /** Where output goes while nobody is attached (besides the first-viewer backlog). */
  readonly onUnattachedOutput?: (channel: OutputChannelName, data: Buffer) => void;
  /** An attachment ended (detach, or its channel left) — the engine forgets its session id. */
  readonly onAttachmentEnd: (sessionId: string) => void;
  readonly log: Logger;
}

interface Attachment {
  readonly channel: SessionChannel;
  readonly sessionId: string;
  readonly scan: ReturnType<typeof createDetachScanner>;
}

/**
 * A process that outlives its viewers — a connect shell or the main process. At most one
 * viewer (attachment) at a time receives its output and feeds its input; Ctrl-P Ctrl-Q or
 * SessionDetach ends the attachment and leaves the process running for `attach_to`.
 */
export class AttachableProcess {
  private process: LaunchedProcess | undefined;
  private attachment: Attachment | undefined;
  private announced = false;
  /** True from the first moment output could go to a viewer; before that it is kept. */
  private delivering = false;
  private backlog: Array<{ channel: OutputChannelName; data: Buffer }> = [];
  private backlogBytes = 0;
  /** Input and abandonment that arrived while the launcher was still starting the process. */
  private pending: Array<{ sessionId: string; input: SessionInputValue }> = [];
  private killWhenStarted = false;

  constructor(
    readonly id: string,
    private readonly options: AttachableOptions,
  ) {}

  /** The launcher's output callback for this process. */
  readonly onOutput = (channel: OutputChannelName, data: Buffer): void => {
    const attachment = this.attachment;
    if (this.delivering && attachment !== undefined) {
      attachment.channel.send(outputEvent(attachment.sessionId, channel, data));
      return;
    }
    if (attachment === undefined) this.options.onUnattachedOutput?.(channel, data);
    if (!this.delivering) this.keepBacklog(channel, data);
  };

  setProcess(process: LaunchedProcess): void {
    this.process = process;
    if (this.killWhenStarted) process.signal('SIGKILL');
    for (const { sessionId, input } of this.pending.splice(0)) this.input(sessionId, input);
  }

  /**
   * The process's start has been reported (SessionStarted), so output may follow it; until
   * then, and until someone attaches, output is kept for the first viewer.
   */
  announce(): void {
    this.announced = true;
    this.startDelivering();
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get exited(): Promise<ProcessExit> | undefined {
    return this.process?.exited;
  }

  /** The current viewer, if any. */
  get viewer(): { readonly channel: SessionChannel; readonly sessionId: string } | undefined {
    return this.attachment;
  }

  /** Makes `sessionId` on `channel` the viewer; refuses while another viewer is attached. */
  attach(channel: SessionChannel, sessionId: string): Session {
    if (this.attachment !== undefined) {
      throw new OpenShellError(
        'ERR_CONFLICT',
        `session ${this.id} is attached by session ${this.attachment.sessionId}; detach it (Ctrl-P Ctrl-Q) first`,
      );
    }
    this.attachment = { channel, sessionId, scan: createDetachScanner() };
    this.startDelivering();
    return {
      channel,
      input: (input) => this.input(sessionId, input),
      abandon: () => this.abandon(sessionId),
    };
  }

  /** Ends the current attachment (if `sessionId` still holds it); the process keeps running. */
  detach(sessionId: string): void {
    if (this.attachment?.sessionId !== sessionId) return;
    this.attachment = undefined;
    this.options.onAttachmentEnd(sessionId);
  }

  signal(signal: NodeJS.Signals): void {
    this.process?.signal(signal);
  }

  resize(size: { rows: number; cols: number }): void {
    this.process?.resize(size);
  }

  private startDelivering(): void {
    const attachment = this.attachment;
    if (this.delivering || !this.announced || attachment === undefined) return;
    this.delivering = true;
    for (const { channel, data } of this.backlog) {
      attachment.channel.send(outputEvent(attachment.sessionId, channel, data));
    }
    this.backlog = [];
  }

  private abandon(sessionId: string): void {
    if (this.attachment?.sessionId !== sessionId) return;
    this.detach(sessionId);
    // Closing the client without detaching ends the shell, like a terminal hang-up.
    if (!this.options.killOnAbandon) return;
    if (this.process === undefined) this.killWhenStarted = true;
    else this.process.signal('SIGKILL');
  }

  private input(sessionId: string, input: SessionInputValue): void {
    const attachment = this.attachment;
    const process = this.process;
    if (attachment?.sessionId !== sessionId) return;
    if (process === undefined) {
      this.pending.push({ sessionId, input });
      return;
    }
    switch (input.$case) {
      case 'data': {
        const { forward, detach } = attachment.scan(input.value);
        if (forward.length > 0) process.write(forward);
        if (detach) this.detach(sessionId);
        break;
      }
      case 'eof':
        process.endInput();
        break;
      case 'resize':
        process.resize(input.value);
        break;
      case 'signal': {
        const signal = toForwardableSignal(input.value);
        if (signal === undefined)
          this.options.log('ignored unknown signal', { session: sessionId, signal: input.value });
        else process.signal(signal);
        break;
      }
      case 'detach':
        this.detach(sessionId);
        break;
      case 'cancel':
        this.abandon(sessionId);
        break;
    }
  }

  private keepBacklog(channel: OutputChannelName, data: Buffer): void {
    this.backlog.push({ channel, data });
    this.backlogBytes += data.length;
    while (this.backlogBytes > BACKLOG_LIMIT_BYTES && this.backlog.length > 1) {
      const dropped = this.backlog.shift();
      this.backlogBytes -= dropped?.data.length ?? 0;
    }
  }
}
