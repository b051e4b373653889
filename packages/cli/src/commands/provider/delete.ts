import { Args } from '@oclif/core';
import { isOpenShellError } from '@openshell/policy-schema';
import { BaseCommand } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';

export default class ProviderDelete extends BaseCommand {
  static override summary = 'Delete providers; sandboxes created later can no longer use them.';
  static override description =
    'Like `sandbox delete`, an unknown name is reported (`! Provider N not found`) without failing, ' +
    'so the command is safe to repeat.';
  static override examples = ['<%= config.bin %> provider delete gh claude'];
  static override strict = false;
  static override args = {
    names: Args.string({ description: 'Provider names.', required: true }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(ProviderDelete);
    const names = argv as string[];
    const conn = await this.connect(flags);
    try {
      for (const name of names) {
        try {
          await callUnary(conn.client.deleteProvider.bind(conn.client), { name });
          process.stdout.write(`✓ Deleted provider ${name}\n`);
        } catch (err) {
          if (!isOpenShellError(err) || err.code !== 'ERR_PROVIDER_NOT_FOUND') throw err;
          process.stdout.write(`! Provider ${name} not found\n`);
        }
      }
    } finally {
      conn.close();
    }
  }
}
