import { posix } from 'node:path';
import { OpenShellError } from '@openshell/policy-schema';
import type { DownloadSession as DownloadCommand } from '@openshell/proto';
import { Parser } from 'tar';
import type { ProcessSessionDeps } from './exec-session.js';
import type { LaunchedProcess } from './process-launcher.js';
import { buildHelperEnv } from './run-sandboxed.js';
import {
  failedEvent,
  outputEvent,
  startedEvent,
  type Session,
  type SessionChannel,
  type SessionInputValue,
} from './session-events.js';

const STDERR_LIMIT_BYTES = 4096;

/** `-C parent -- name`, so the archive holds `name/...` and never an absolute path. */
function splitPath(path: string): { parent: string; name: string } {
  if (!path.startsWith('/') || path.includes('\0')) {
    throw new OpenShellError(
      'ERR_USAGE',
      `download path ${JSON.stringify(path)} must be an absolute path`,
    );
  }
  const normalized = posix.normalize(path);
  if (normalized === '/') return { parent: '/', name: '.' };
  const trimmed = normalized.replace(/\/+$/, '');
  return { parent: posix.dirname(trimmed), name: posix.basename(trimmed) };
}

/**
 * `sandbox download`: GNU tar, run as the sandbox user through the launcher, archives the
 * path; its stdout streams out as SessionOutput (STDOUT) chunks and TransferDone ends it.
 * Running as the sandbox user (not as the root agent) means a download can read only what
 * the sandbox could — never the agent's token or another root-only file. Symlinks are
 * archived as links (no -h), so a link pointing outside is not followed.
 */
export class DownloadSession implements Session {
  private tar: LaunchedProcess | undefined;
  private cancelled = false;

  constructor(
    private readonly deps: ProcessSessionDeps,
    private readonly command: DownloadCommand,
    readonly channel: SessionChannel,
  ) {}

  /** Runs the download to its end; never rejects (failures become SessionFailed). */
  async run(): Promise<void> {
    const { sessionId } = this.command;
    let stderr = '';
    let bytes = 0;
    let entries = 0;
    let started = false;
    const early: Buffer[] = [];
    // Counting entries costs a header parse per 512-byte block, not a second copy.
    const counter = new Parser();
    counter.on('entry', (entry: { resume(): void }) => {
      entries += 1;
      entry.resume();
    });
    counter.on('error', () => {
      // The receiving side validates the archive; a miscount must not fail the download.
    });
    const send = (data: Buffer): void => {
      bytes += data.length;
      counter.write(data);
      this.channel.send(outputEvent(sessionId, 'stdout', data));
    };
    try {
      const { parent, name } = splitPath(this.command.path);
      this.tar = await this.deps.launcher.spawn({
        argv: ['tar', '--create', '--file=-', `--directory=${parent}`, '--', name],
        env: buildHelperEnv(this.deps.config),
        cwd: '/',
        onOutput(channel, data) {
          if (channel === 'stderr') {
            if (stderr.length < STDERR_LIMIT_BYTES) stderr += data.toString('utf8');
          } else if (started) {
            send(data);
          } else {
            early.push(data);
          }
        },
      });
    } catch (error) {
      this.channel.send(failedEvent(sessionId, error));
      return;
    }
    const tar = this.tar;
    this.channel.send(startedEvent(sessionId, tar.pid));
    started = true;
    for (const data of early.splice(0)) send(data);
    if (this.cancelled) tar.signal('SIGKILL');
    tar.endInput();
    const exit = await tar.exited;
    counter.end();
    if (exit.code === 0) {
      this.channel.send({
        payload: { $case: 'transferDone', value: { sessionId, bytes, entries } },
      });
      return;
    }
    const why = this.cancelled
      ? 'cancelled'
      : stderr.trim() || `tar exited with ${exit.code ?? exit.signal}`;
    this.channel.send(
      failedEvent(
        sessionId,
        new OpenShellError(
          'ERR_TRANSFER_FAILED',
          `download of ${this.command.path} failed: ${why}`,
        ),
      ),
    );
  }

  input(input: SessionInputValue): void {
    if (input.$case === 'cancel') this.abandon();
  }

  abandon(): void {
    this.cancelled = true;
    this.tar?.signal('SIGKILL');
  }
}
