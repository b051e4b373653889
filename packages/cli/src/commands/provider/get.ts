import { Args } from '@oclif/core';
import { OpenShellError } from '@openshell/policy-schema';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';
import { formatProviderDetails, providerToJson } from '../../providers/provider-view.js';

export default class ProviderGet extends BaseCommand {
  static override summary = 'Show one provider: type, credential names, allowed hosts.';
  static override examples = ['<%= config.bin %> provider get gh -o json'];
  static override args = { name: Args.string({ description: 'Provider name.', required: true }) };
  static override flags = { output: outputFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ProviderGet);
    const conn = await this.connect(flags);
    try {
      const { provider } = await callUnary(conn.client.getProvider.bind(conn.client), {
        name: args.name,
      });
      if (provider === undefined) {
        throw new OpenShellError('ERR_INTERNAL', 'the gateway answered without the provider');
      }
      if (flags.output === 'table') process.stdout.write(formatProviderDetails(provider));
      else this.printStructured(flags.output, providerToJson(provider));
    } finally {
      conn.close();
    }
  }
}
