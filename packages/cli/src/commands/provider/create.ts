import { Flags } from '@oclif/core';
import { OpenShellError } from '@openshell/policy-schema';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';
import { collectProviderRequest } from '../../providers/collect-credentials.js';
import { PROVIDER_TYPES } from '../../providers/provider-types.js';
import { formatProviderDetails, providerToJson } from '../../providers/provider-view.js';

export default class ProviderCreate extends BaseCommand {
  static override summary = 'Store credentials for an agent or API, for sandboxes to use.';
  static override description =
    `Types: ${Object.keys(PROVIDER_TYPES).join(', ')} (claude is an alias of claude-code). ` +
    '--from-existing reads the variables the type knows (e.g. ANTHROPIC_API_KEY for claude-code) ' +
    'from this environment; --credential KEY reads KEY from the environment and KEY=VALUE takes ' +
    'the value given (visible in the process list, so prefer the first form). Sandboxes only see ' +
    "placeholders; the proxy swaps in the real value for requests to the type's hosts (for " +
    'generic, the --allowed-host list). Values are never printed.';
  static override examples = [
    '<%= config.bin %> provider create --name claude --type claude-code --from-existing',
    '<%= config.bin %> provider create --name gh --type github --credential GITHUB_TOKEN',
    '<%= config.bin %> provider create --name internal --type generic --credential API_TOKEN --allowed-host api.internal.example.com',
  ];
  static override flags = {
    name: Flags.string({ description: 'Provider name.', required: true }),
    type: Flags.string({ description: 'Provider type.', required: true }),
    'from-existing': Flags.boolean({
      description: "Take the type's known credential variables from this environment.",
      default: false,
    }),
    credential: Flags.string({
      description: 'KEY (read from the environment) or KEY=VALUE (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'allowed-host': Flags.string({
      description: 'Host the credentials may be sent to (repeatable; required for generic).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ProviderCreate);
    const request = collectProviderRequest(
      {
        name: flags.name,
        type: flags.type,
        fromExisting: flags['from-existing'],
        credentials: flags.credential ?? [],
        allowedHosts: flags['allowed-host'] ?? [],
      },
      process.env,
    );
    const conn = await this.connect(flags);
    try {
      const { provider } = await callUnary(conn.client.createProvider.bind(conn.client), {
        name: request.name,
        type: request.type,
        credentials: { ...request.credentials },
        allowedHosts: [...request.allowedHosts],
      });
      if (provider === undefined) {
        throw new OpenShellError('ERR_INTERNAL', 'the gateway answered without the provider');
      }
      if (flags.output === 'table') {
        process.stdout.write(
          `✓ Created provider ${provider.name} (${provider.type}) with ${provider.credentialKeys.join(', ')}\n`,
        );
        if (this.verbosity > 0) process.stderr.write(formatProviderDetails(provider));
      } else {
        this.printStructured(flags.output, providerToJson(provider));
      }
    } finally {
      conn.close();
    }
  }
}
