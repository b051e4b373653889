import { Args } from '@oclif/core';
import { OpenShellError } from '@openshell/policy-schema';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';
import {
  formatRouteDetails,
  formatRouteList,
  routeToJson,
} from '../../inference/inference-view.js';

export default class InferenceGet extends BaseCommand {
  static override summary = 'Show one inference route, or list them all.';
  static override examples = [
    '<%= config.bin %> inference get',
    '<%= config.bin %> inference get local -o json',
  ];
  static override args = {
    name: Args.string({ description: 'Route name (default: list every route).' }),
  };
  static override flags = { output: outputFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(InferenceGet);
    const conn = await this.connect(flags);
    try {
      if (args.name === undefined) {
        const { routes } = await callUnary(conn.client.listInferenceRoutes.bind(conn.client), {});
        const sorted = [...routes].sort((a, b) => a.name.localeCompare(b.name));
        if (flags.output === 'table') process.stdout.write(formatRouteList(sorted));
        else this.printStructured(flags.output, sorted.map(routeToJson));
        return;
      }
      const { route } = await callUnary(conn.client.getInferenceRoute.bind(conn.client), {
        name: args.name,
      });
      if (route === undefined) {
        throw new OpenShellError('ERR_INTERNAL', 'the gateway answered without the route');
      }
      if (flags.output === 'table') process.stdout.write(formatRouteDetails(route));
      else this.printStructured(flags.output, routeToJson(route));
    } finally {
      conn.close();
    }
  }
}
