import { BaseCommand, outputFlag } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';
import { formatProviderList, providerToJson } from '../../providers/provider-view.js';

export default class ProviderList extends BaseCommand {
  static override summary = 'List stored providers (credential names only, never values).';
  static override examples = [
    '<%= config.bin %> provider list',
    '<%= config.bin %> provider list -o json',
  ];
  static override flags = { output: outputFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(ProviderList);
    const conn = await this.connect(flags);
    try {
      const { providers } = await callUnary(conn.client.listProviders.bind(conn.client), {});
      if (flags.output === 'table') process.stdout.write(formatProviderList(providers));
      else
        this.printStructured(
          flags.output,
          [...providers].sort((a, b) => a.name.localeCompare(b.name)).map(providerToJson),
        );
    } finally {
      conn.close();
    }
  }
}
