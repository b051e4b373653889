import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { rememberSandbox, withSandboxSuggestion } from '../../gateway/sandbox-ref.js';
import { uploadPath } from '../../transfer/transfer-rpc.js';

export default class SandboxUpload extends BaseCommand {
  static override summary = 'Copy a local file or directory into a sandbox.';
  static override description =
    'Sends LOCAL as a tar stream and extracts it under DEST (default /sandbox), keeping its ' +
    'basename (./proj → /sandbox/proj). Paths matched by .gitignore files, and .git itself, ' +
    'are skipped unless --no-git-ignore. The sandbox refuses entries that would escape DEST.';
  static override examples = [
    '<%= config.bin %> sandbox upload demo ./src',
    '<%= config.bin %> sandbox upload demo ./data.csv /tmp --no-git-ignore',
  ];
  static override args = {
    name: Args.string({ description: 'Sandbox name.', required: true }),
    local: Args.string({ description: 'Local file or directory.', required: true }),
    dest: Args.string({ description: 'Directory inside the sandbox (default /sandbox).' }),
  };
  static override flags = {
    'git-ignore': Flags.boolean({
      description: 'Skip paths matched by .gitignore (default; --no-git-ignore sends everything).',
      allowNo: true,
      default: true,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SandboxUpload);
    const conn = await this.connect(flags);
    try {
      const result = await withSandboxSuggestion(conn, args.name, () =>
        uploadPath(conn, args.name, args.local, args.dest, { gitIgnore: flags['git-ignore'] }),
      );
      await rememberSandbox(conn, args.name);
      process.stderr.write(
        `✓ Uploaded ${result.entriesWritten} entries (${result.bytesReceived} bytes) to ${args.name}:${args.dest ?? '/sandbox'}\n`,
      );
    } finally {
      conn.close();
    }
  }
}
