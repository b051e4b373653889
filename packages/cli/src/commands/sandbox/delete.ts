import { Args, Flags } from '@oclif/core';
import { OpenShellError, isOpenShellError } from '@openshell/policy-schema';
import { BaseCommand } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';

export default class SandboxDelete extends BaseCommand {
  static override summary = 'Delete sandboxes.';
  static override description =
    'Stops their processes, frees their network namespace and addresses and discards the ' +
    'credentials injected into them. An unknown name is reported (`! Sandbox N not found`) ' +
    'without failing the command.';
  static override examples = [
    '<%= config.bin %> sandbox delete demo',
    '<%= config.bin %> sandbox delete a b c',
    '<%= config.bin %> sandbox delete --all',
  ];
  // Variadic NAMES: oclif collects extra positional arguments only in non-strict mode.
  static override strict = false;
  static override args = {
    names: Args.string({ description: 'Sandbox names (or ids).' }),
  };
  static override flags = {
    all: Flags.boolean({ description: 'Delete every sandbox on the gateway.' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(SandboxDelete);
    const given = argv.map(String);
    if (flags.all === given.length > 0) {
      throw new OpenShellError(
        'ERR_USAGE',
        flags.all
          ? 'give either sandbox names or --all, not both'
          : 'give the sandbox names to delete, or --all',
      );
    }
    const conn = await this.connect(flags);
    try {
      const names = flags.all
        ? (
            await callUnary(conn.client.listSandboxes.bind(conn.client), { labelSelector: {} })
          ).sandboxes.map((s) => s.name)
        : given;
      if (flags.all && names.length === 0) process.stdout.write('No sandboxes found.\n');
      for (const name of names) {
        try {
          await callUnary(conn.client.deleteSandbox.bind(conn.client), { sandbox: name });
          process.stdout.write(`✓ Deleted sandbox ${name}\n`);
        } catch (err) {
          if (!isOpenShellError(err) || err.code !== 'ERR_SANDBOX_NOT_FOUND') throw err;
          process.stderr.write(`! Sandbox ${name} not found\n`);
        }
      }
    } finally {
      conn.close();
    }
  }
}
