import { OpenShellError } from '@openshell/policy-schema';
import type { UploadSession as UploadCommand } from '@openshell/proto';
import { Parser, type ReadEntry } from 'tar';
import { encodeTarHeader, TAR_END, tarPadding } from './encode-tar-entry.js';
import type { ProcessSessionDeps } from './exec-session.js';
import { ExtractionGuard } from './extraction-guard.js';
import { prepareUploadDestination } from './prepare-upload-destination.js';
import type { LaunchedProcess } from './process-launcher.js';
import { buildHelperEnv } from './run-sandboxed.js';
import {
  failedEvent,
  startedEvent,
  type Session,
  type SessionChannel,
  type SessionInputValue,
} from './session-events.js';

const STDERR_LIMIT_BYTES = 4096;

/**
 * `sandbox upload`: a tar stream arrives as SessionInput data and is extracted into the
 * destination by GNU tar running as the sandbox user through the launcher. The agent parses
 * the stream itself (node-tar), checks each entry with ExtractionGuard and hands tar a
 * re-encoded archive of only the checked entries. A refused entry stops the upload (entries
 * before it stay extracted, as with tar) and ends the session with ERR_TRANSFER_REFUSED.
 */
export class UploadSession implements Session {
  private pending: SessionInputValue[] = [];
  private parser: Parser | undefined;
  private tar: LaunchedProcess | undefined;
  private finished = false;
  private inputBytes = 0;
  private entries = 0;
  private stderr = '';
  private resolveDone: () => void = () => undefined;

  constructor(
    private readonly deps: ProcessSessionDeps,
    private readonly command: UploadCommand,
    readonly channel: SessionChannel,
  ) {}

  /** Runs the upload to its end; never rejects (failures become SessionFailed). */
  async run(): Promise<void> {
    const { sessionId } = this.command;
    const done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
    let destination: string;
    try {
      destination = await prepareUploadDestination(
        this.deps.launcher,
        this.deps.config,
        this.command.dest,
      );
      this.tar = await this.deps.launcher.spawn({
        argv: [
          'tar',
          '--extract',
          '--file=-',
          `--directory=${destination}`,
          '--no-same-owner',
          '--no-overwrite-dir',
        ],
        env: buildHelperEnv(this.deps.config),
        cwd: destination,
        onOutput: (channel, data) => {
          if (channel === 'stderr' && this.stderr.length < STDERR_LIMIT_BYTES)
            this.stderr += data.toString('utf8');
        },
      });
    } catch (error) {
      this.finished = true;
      this.channel.send(failedEvent(sessionId, error));
      return;
    }
    this.channel.send(startedEvent(sessionId, this.tar.pid));
    this.parser = this.createParser(this.tar, new ExtractionGuard(destination));
    for (const input of this.pending.splice(0)) this.input(input);
    await done;
  }

  input(input: SessionInputValue): void {
    const parser = this.parser;
    if (this.finished) return;
    if (parser === undefined) {
      this.pending.push(input);
      return;
    }
    switch (input.$case) {
      case 'data':
        this.inputBytes += input.value.length;
        parser.write(input.value);
        break;
      case 'eof':
        parser.end();
        break;
      case 'cancel':
        this.fail(
          new OpenShellError('ERR_TRANSFER_FAILED', 'upload cancelled by the client'),
          true,
        );
        break;
      case 'resize':
      case 'signal':
      case 'detach':
        break;
    }
  }

  abandon(): void {
    this.fail(new OpenShellError('ERR_TRANSFER_FAILED', 'upload client went away'), true);
  }

  private createParser(tar: LaunchedProcess, guard: ExtractionGuard): Parser {
    const parser = new Parser({ strict: true });
    parser.on('entry', (entry: ReadEntry) => this.forwardEntry(tar, guard, entry));
    parser.on('ignoredEntry', (entry: ReadEntry) => {
      this.fail(
        new OpenShellError(
          'ERR_TRANSFER_REFUSED',
          `upload entry ${JSON.stringify(entry.path)} refused: entry type ${entry.type} is not supported`,
        ),
      );
    });
    parser.on('error', (error: Error) => {
      this.fail(
        new OpenShellError(
          'ERR_TRANSFER_REFUSED',
          `upload is not a valid tar stream: ${error.message}`,
          {
            cause: error,
          },
        ),
      );
    });
    parser.on('end', () => void this.complete(tar));
    return parser;
  }

  private forwardEntry(tar: LaunchedProcess, guard: ExtractionGuard, entry: ReadEntry): void {
    if (this.finished) {
      entry.resume();
      return;
    }
    let guarded;
    try {
      guarded = guard.check(entry);
    } catch (error) {
      entry.resume();
      this.fail(error);
      return;
    }
    if (guarded === undefined) {
      entry.resume();
      return;
    }
    this.entries += 1;
    const size = guarded.type === 'File' ? entry.size : 0;
    tar.write(encodeTarHeader(guarded, { mode: entry.mode, size, mtime: entry.mtime }));
    entry.on('data', (chunk: Buffer) => {
      if (!this.finished && size > 0) tar.write(chunk);
    });
    entry.on('end', () => {
      if (!this.finished && size > 0) tar.write(tarPadding(size));
    });
    entry.resume();
  }

  private async complete(tar: LaunchedProcess): Promise<void> {
    if (this.finished) return;
    tar.write(TAR_END);
    tar.endInput();
    const exit = await tar.exited;
    if (this.finished) return;
    this.finished = true;
    const { sessionId } = this.command;
    if (exit.code === 0) {
      this.channel.send({
        payload: {
          $case: 'transferDone',
          value: { sessionId, bytes: this.inputBytes, entries: this.entries },
        },
      });
    } else {
      const why = this.stderr.trim() || `tar exited with ${exit.code ?? exit.signal}`;
      this.channel.send(
        failedEvent(
          sessionId,
          new OpenShellError(
            'ERR_TRANSFER_FAILED',
            `upload into ${this.command.dest} failed: ${why}`,
          ),
        ),
      );
    }
    this.resolveDone();
  }

  /**
   * Ends the upload with an error. After a refusal tar gets a clean end of archive, so the
   * entries before the refused one are extracted and nothing after it; a cancel kills tar.
   */
  private fail(error: unknown, kill = false): void {
    if (this.finished) return;
    this.finished = true;
    const tar = this.tar;
    const report = (): void => {
      this.channel.send(failedEvent(this.command.sessionId, error));
      this.resolveDone();
    };
    if (tar === undefined) {
      report();
      return;
    }
    if (kill) {
      tar.signal('SIGKILL');
    } else {
      tar.write(TAR_END);
      tar.endInput();
    }
    void tar.exited.then(report);
  }
}
