import { constants } from 'node:os';
import type { ExitStatus, TerminalSize } from '@openshell/proto';

/** The standard streams a session relays; injectable so a test can drive a session. */
export interface SessionIo {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** The process's own streams. */
export function processIo(): SessionIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

/** The local terminal's size, for the remote PTY (80x24 when unknown). */
export function terminalSize(io: SessionIo): TerminalSize {
  // A pty nobody sized (script(1) without a terminal, some CI runners) reports 0x0, which
  // would give the remote shell a zero-width screen.
  const rows = io.stdout.rows ?? 0;
  const cols = io.stdout.columns ?? 0;
  return { rows: rows > 0 ? rows : 24, cols: cols > 0 ? cols : 80 };
}

/**
 * Puts stdin in raw mode (every key, Ctrl-C included, goes to the remote PTY) and returns
 * the function that restores it. The restore also runs on process exit, so no exit path
 * (error, signal, oclif's process.exit) leaves the user's terminal raw.
 */
export function enterRawMode(io: SessionIo): () => void {
  if (!io.stdin.isTTY) return () => {};
  io.stdin.setRawMode(true);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    process.removeListener('exit', restore);
    io.stdin.setRawMode(false);
  };
  process.on('exit', restore);
  return restore;
}

/** The CLI exit code for a remote exit: the code, 128+signal number, 124 on timeout. */
export function toExitCode(exit: ExitStatus): number {
  // 124 is what timeout(1) returns, and REFERENCE.md's code for a timed-out wait.
  if (exit.timedOut) return 124;
  if (exit.code !== undefined) return exit.code;
  if (exit.signal !== undefined) {
    const num = (constants.signals as Record<string, number | undefined>)[exit.signal];
    return 128 + (num ?? 0);
  }
  return 1;
}

/** Forwards stdout/stderr writes with backpressure: pauses `source` until `sink` drains. */
export function writeWithBackpressure(
  sink: NodeJS.WritableStream,
  chunk: Buffer,
  source: { pause(): unknown; resume(): unknown },
): void {
  if (!sink.write(chunk)) {
    source.pause();
    sink.once('drain', () => source.resume());
  }
}
