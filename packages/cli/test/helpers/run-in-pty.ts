import { execFile } from 'node:child_process';
import { CLI_BIN } from '../run-cli.js';

// Node has no PTY API; Python's pty module gives the CLI a real terminal on stdin, stdout and
// stderr (so isTTY is true, as for a person) and answers one prompt when it appears.
const PTY_DRIVER = `
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
answer, prompt, out, sent = os.environ['PTY_ANSWER'].encode(), os.environ['PTY_PROMPT'].encode(), b'', False
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not sent and prompt in out:
        os.write(fd, answer + b'\\n')
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
`;

/** Terminal output as text: CRLF → LF, and readline's cursor and colour sequences dropped. */
function withoutEscapes(text: string): string {
  // eslint-disable-next-line no-control-regex -- removing terminal escape sequences is the point
  return text.replace(/\r\n/g, '\n').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
}

/** Runs the built CLI on a pseudo-terminal, typing `answer` once `prompt` is shown. Output is stdout and stderr merged, as a terminal shows them. */
export function runCliInPty(
  args: readonly string[],
  opts: { env: Record<string, string | undefined>; prompt: string; answer: string },
): Promise<{ code: number; output: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    PTY_PROMPT: opts.prompt,
    PTY_ANSWER: opts.answer,
  };
  for (const [key, value] of Object.entries(opts.env)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return new Promise((resolve, reject) => {
    execFile(
      'python3',
      ['-c', PTY_DRIVER, process.execPath, CLI_BIN, ...args],
      { env, timeout: 60_000 },
      (error, stdout) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error(`cannot run openshell in a pty: ${error.message}`, { cause: error }));
          return;
        }
        resolve({
          code: error === null ? 0 : (error.code as number),
          output: withoutEscapes(stdout),
        });
      },
    );
  });
}
