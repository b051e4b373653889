/** A structured diagnostic line; stdout stays free for the main process's output. */
export type Logger = (message: string, fields?: Readonly<Record<string, unknown>>) => void;

/**
 * A logger writing one JSON object per line (`{"time","component","msg",...}`) to `write`,
 * by default the agent's stderr.
 *
 * @example
 * const log = createLogger();
 * log('main process started', { pid: 42 });
 */
export function createLogger(
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  return function logLine(message, fields = {}) {
    write(
      `${JSON.stringify({ time: new Date().toISOString(), component: 'sandbox-agent', msg: message, ...fields })}\n`,
    );
  };
}
