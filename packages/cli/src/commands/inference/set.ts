import { Flags } from '@oclif/core';
import { OpenShellError } from '@openshell/policy-schema';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';
import {
  API_SHAPES,
  API_SHAPE_OPTIONS,
  ROUTE_KINDS,
  ROUTE_KIND_OPTIONS,
  parseBaseUrl,
  resolveApiKey,
  routeToJson,
} from '../../inference/inference-view.js';

export default class InferenceSet extends BaseCommand {
  static override summary = 'Create or replace a route behind https://inference.local.';
  static override description =
    'A local route may receive any prompt; a frontier route only what the sandbox policy lets ' +
    'through. The API key is read from the variable named by --api-key-env (never from the ' +
    'command line) and never shown; without --api-key-env or --no-api-key an existing key is kept.';
  static override examples = [
    '<%= config.bin %> inference set --name local --kind local --base-url http://127.0.0.1:11434/v1 --api openai --model llama3.1 --no-api-key',
    '<%= config.bin %> inference set --name claude --kind frontier --base-url https://api.anthropic.com --api anthropic --model claude-sonnet-4 --api-key-env ANTHROPIC_API_KEY',
  ];
  static override flags = {
    name: Flags.string({ description: 'Route name (policies refer to it).', required: true }),
    kind: Flags.option({
      description: 'local or frontier.',
      options: ROUTE_KIND_OPTIONS,
      required: true,
    })(),
    'base-url': Flags.string({ description: 'Upstream base URL.', required: true }),
    api: Flags.option({
      description: 'API dialect the upstream speaks.',
      options: API_SHAPE_OPTIONS,
      required: true,
    })(),
    model: Flags.string({
      description: "Model the router substitutes for the caller's.",
      required: true,
    }),
    'api-key-env': Flags.string({
      description: 'Environment variable holding the upstream API key.',
      exclusive: ['no-api-key'],
    }),
    'no-api-key': Flags.boolean({
      description: 'The upstream needs no key (removes a stored one).',
      default: false,
    }),
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(InferenceSet);
    if (!/^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/.test(flags.name)) {
      throw new OpenShellError(
        'ERR_USAGE',
        `--name ${flags.name}: a route name is 1-63 lower-case letters, digits, "-" and "_"`,
      );
    }
    if (flags.model.trim() === '') throw new OpenShellError('ERR_USAGE', '--model is empty');
    const baseUrl = parseBaseUrl(flags['base-url']);
    const apiKey = resolveApiKey(
      { apiKeyEnv: flags['api-key-env'], noApiKey: flags['no-api-key'] },
      process.env,
    );
    const conn = await this.connect(flags);
    try {
      const { route } = await callUnary(conn.client.setInferenceRoute.bind(conn.client), {
        name: flags.name,
        kind: ROUTE_KINDS[flags.kind],
        baseUrl,
        api: API_SHAPES[flags.api],
        model: flags.model,
        ...(apiKey === undefined ? {} : { apiKey }),
      });
      if (route === undefined) {
        throw new OpenShellError('ERR_INTERNAL', 'the gateway answered without the route');
      }
      if (flags.output === 'table') {
        process.stdout.write(
          `✓ Inference route ${route.name} set (${flags.kind}, ${flags.api}, model ${route.model}, API key: ${route.hasApiKey ? 'set' : 'none'})\n`,
        );
      } else {
        this.printStructured(flags.output, routeToJson(route));
      }
    } finally {
      conn.close();
    }
  }
}
