import { Args } from '@oclif/core';
import { isOpenShellError } from '@openshell/policy-schema';
import { BaseCommand } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';

export default class InferenceDelete extends BaseCommand {
  static override summary = 'Delete an inference route.';
  static override description =
    'Sandboxes whose policy names the route get 400 from inference.local for it afterwards. Like ' +
    '`sandbox delete`, an unknown name is reported (`! Inference route N not found`) without ' +
    'failing, so the command is safe to repeat.';
  static override examples = ['<%= config.bin %> inference delete claude'];
  static override args = { name: Args.string({ description: 'Route name.', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(InferenceDelete);
    const conn = await this.connect(flags);
    try {
      await callUnary(conn.client.deleteInferenceRoute.bind(conn.client), { name: args.name });
      process.stdout.write(`✓ Deleted inference route ${args.name}\n`);
    } catch (err) {
      if (!isOpenShellError(err) || err.code !== 'ERR_INFERENCE_ROUTE_NOT_FOUND') throw err;
      process.stdout.write(`! Inference route ${args.name} not found\n`);
    } finally {
      conn.close();
    }
  }
}
