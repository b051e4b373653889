import { Flags } from '@oclif/core';
import { OpenShellError } from '@openshell/policy-schema';
import { BaseCommand } from '../../base-command.js';
import {
  rememberSandbox,
  resolveSandboxName,
  withSandboxSuggestion,
} from '../../gateway/sandbox-ref.js';
import { parseKeyValues, readCommandAfterDashes } from '../../sandbox/parse-options.js';
import { runExec } from '../../sandbox/run-exec.js';
import { toExitCode } from '../../sandbox/terminal.js';

export default class SandboxExec extends BaseCommand {
  static override summary = 'Run a command in a sandbox.';
  static override description =
    'Runs CMD under the same enforcement as the sandbox main process, forwards stdin and ' +
    'exits with the remote exit code (128+N when killed by signal N, 124 on --timeout). A PTY ' +
    'is used when stdin is a terminal, unless --no-tty. Without -n, the last-used sandbox.';
  static override examples = [
    '<%= config.bin %> sandbox exec -n demo -- ls -la',
    'echo hi | <%= config.bin %> sandbox exec -n demo -- cat',
    '<%= config.bin %> sandbox exec -n demo --timeout 10 --workdir /tmp -- make test',
  ];
  static override usage = 'sandbox exec [-n NAME] [FLAGS] -- CMD...';
  // Everything after `--` is the remote argv, flags included.
  static override strict = false;
  static override flags = {
    name: Flags.string({ char: 'n', description: 'Sandbox name (default: the last-used one).' }),
    workdir: Flags.string({
      description: 'Working directory inside the sandbox (default /sandbox).',
    }),
    timeout: Flags.integer({ description: 'Kill the command after this many seconds.', min: 1 }),
    tty: Flags.boolean({
      description: 'Allocate a PTY (default: when stdin is a terminal).',
      allowNo: true,
    }),
    env: Flags.string({ description: 'Environment variable K=V (repeatable).', multiple: true }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(SandboxExec);
    const command = readCommandAfterDashes(this.argv, argv);
    if (command.length === 0) {
      throw new OpenShellError(
        'ERR_USAGE',
        'give the command to run after --, e.g. openshell sandbox exec -n demo -- ls',
      );
    }
    const env = parseKeyValues('--env', flags.env ?? []);
    const conn = await this.connect(flags);
    try {
      const name = await resolveSandboxName(conn, flags.name);
      const exit = await withSandboxSuggestion(conn, name, () =>
        runExec(conn, {
          sandbox: name,
          argv: command,
          env,
          tty: flags.tty ?? process.stdin.isTTY === true,
          ...(flags.workdir !== undefined ? { workdir: flags.workdir } : {}),
          ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout * 1000 } : {}),
        }),
      );
      await rememberSandbox(conn, name);
      if (exit.timedOut) {
        process.stderr.write(
          `! ${command.join(' ')} timed out after ${flags.timeout ?? 0} s and was killed\n`,
        );
      }
      this.exit(toExitCode(exit));
    } finally {
      conn.close();
    }
  }
}
