/**
 * Progress for long operations (gateway start, sandbox create). stdout stays data-only
 * (DESIGN §6), so everything here goes to stderr, and only when stderr is a terminal: a
 * script piping stderr to a log gets no spinner frames. `verbose` prints plain lines even
 * without a terminal, for `-v` and for debugging CI.
 */
export interface Progress {
  /** Shows the current step (spinner on a TTY). */
  step(message: string): void;
  /** Marks a step done with a check mark. */
  done(message: string): void;
  /** Clears the spinner line, e.g. before handing the terminal to a remote process. */
  stop(): void;
}

export interface ProgressOptions {
  readonly stream?: NodeJS.WriteStream;
  readonly verbose?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A Progress that does nothing (for callers that must stay quiet). */
export const SILENT_PROGRESS: Progress = {
  step() {},
  done() {},
  stop() {},
};

/** Creates a Progress on stderr that animates on a TTY and is silent otherwise. */
export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  const tty = stream.isTTY;
  if (!tty) {
    if (options.verbose !== true) return SILENT_PROGRESS;
    return {
      step(message) {
        stream.write(`… ${message}\n`);
      },
      done(message) {
        stream.write(`✓ ${message}\n`);
      },
      stop() {},
    };
  }
  // NO_COLOR (no-color.org) asks for no ANSI colour; the spinner still uses \r and the
  // erase-line sequence, which are cursor control rather than colour.
  const color = env['NO_COLOR'] === undefined || env['NO_COLOR'] === '';
  const green = (s: string): string => (color ? `\u001b[32m${s}\u001b[39m` : s);
  let timer: NodeJS.Timeout | undefined;
  let frame = 0;
  let current = '';
  const draw = (): void => {
    stream.write(`\r\u001b[2K${FRAMES[frame % FRAMES.length] ?? '-'} ${current}`);
    frame += 1;
  };
  const clear = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    if (current !== '') stream.write('\r\u001b[2K');
    current = '';
  };
  return {
    step(message) {
      current = message;
      draw();
      if (timer === undefined) {
        timer = setInterval(draw, 80);
        // The spinner must never keep the process alive on its own.
        timer.unref();
      }
    },
    done(message) {
      clear();
      stream.write(`${green('✓')} ${message}\n`);
    },
    stop: clear,
  };
}
