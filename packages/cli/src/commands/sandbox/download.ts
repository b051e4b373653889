import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { rememberSandbox, withSandboxSuggestion } from '../../gateway/sandbox-ref.js';
import { downloadPath } from '../../transfer/transfer-rpc.js';

export default class SandboxDownload extends BaseCommand {
  static override summary = 'Copy a file or directory out of a sandbox.';
  static override description =
    'Receives PATH as a tar stream and extracts it into the local DEST directory (default: the ' +
    'current directory), keeping its basename. Entries that would land or point outside DEST ' +
    '(absolute names, "..", symlinks or hard links leading out) are refused and the command fails.';
  static override examples = [
    '<%= config.bin %> sandbox download demo /sandbox/out',
    '<%= config.bin %> sandbox download demo /sandbox/report.md ./reports',
  ];
  static override args = {
    name: Args.string({ description: 'Sandbox name.', required: true }),
    path: Args.string({ description: 'File or directory inside the sandbox.', required: true }),
    dest: Args.string({ description: 'Local directory (default: the current directory).' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SandboxDownload);
    const conn = await this.connect(flags);
    try {
      const dest = args.dest ?? '.';
      const result = await withSandboxSuggestion(conn, args.name, () =>
        downloadPath(conn, args.name, args.path, dest),
      );
      await rememberSandbox(conn, args.name);
      process.stderr.write(
        `✓ Downloaded ${result.entries} entries (${result.bytes} bytes) from ${args.name}:${args.path} to ${dest}\n`,
      );
    } finally {
      conn.close();
    }
  }
}
