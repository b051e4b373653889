import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import {
  rememberSandbox,
  resolveSandboxName,
  withSandboxSuggestion,
} from '../../gateway/sandbox-ref.js';
import { runConnect } from '../../sandbox/run-connect.js';
import { toExitCode } from '../../sandbox/terminal.js';

export default class SandboxConnect extends BaseCommand {
  static override summary = 'Open an interactive shell in a sandbox.';
  static override description =
    'Starts a login shell on a PTY inside the sandbox, under the same enforcement as its main ' +
    'process. Ctrl-P Ctrl-Q detaches and leaves the shell running; re-attach with --session ID. ' +
    'Without NAME, the last-used sandbox. Exits with the shell exit code (0 on detach).';
  static override examples = [
    '<%= config.bin %> sandbox connect demo',
    '<%= config.bin %> sandbox connect demo --session 3f1c…',
  ];
  static override args = {
    name: Args.string({ description: 'Sandbox name (default: the last-used sandbox).' }),
  };
  static override flags = {
    session: Flags.string({ description: 'Re-attach to a detached session by id.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SandboxConnect);
    const conn = await this.connect(flags);
    try {
      const name = await resolveSandboxName(conn, args.name);
      const outcome = await withSandboxSuggestion(conn, name, () =>
        runConnect(conn, {
          sandbox: name,
          ...(flags.session !== undefined ? { sessionId: flags.session } : {}),
        }),
      );
      await rememberSandbox(conn, name);
      if (outcome.kind === 'detached') {
        process.stderr.write(
          `\nDetached from session ${outcome.sessionId}; the shell keeps running.\n` +
            `Re-attach with: openshell sandbox connect ${name} --session ${outcome.sessionId}\n`,
        );
        return;
      }
      this.exit(toExitCode(outcome.exit));
    } finally {
      conn.close();
    }
  }
}
