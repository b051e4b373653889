import { Args, Flags } from '@oclif/core';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';
import {
  rememberSandbox,
  resolveSandboxName,
  withSandboxSuggestion,
} from '../../gateway/sandbox-ref.js';
import { formatPolicyGet, policyGetToJson } from '../../policy/revision-view.js';

export default class PolicyGet extends BaseCommand {
  static override summary = "Show a sandbox's policy revision (and with --full, the policy).";
  static override description =
    'Prints the revision header (version, full SHA-256 hash, status, active version, creation ' +
    'time); with --full, a `---` line and the effective policy YAML follow. That output can be ' +
    'edited and fed back to `policy set`, which strips the header. Without --rev, the active ' +
    'revision is shown.';
  static override examples = [
    '<%= config.bin %> policy get demo',
    '<%= config.bin %> policy get demo --full > policy.yaml',
    '<%= config.bin %> policy get demo --rev 2 -o json',
  ];
  static override args = {
    name: Args.string({ description: 'Sandbox name (default: the last one used).' }),
  };
  static override flags = {
    full: Flags.boolean({ description: 'Append `---` and the policy YAML.', default: false }),
    rev: Flags.integer({
      description: 'Revision (version) to show instead of the active one.',
      min: 1,
    }),
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PolicyGet);
    const conn = await this.connect(flags);
    try {
      const sandbox = await resolveSandboxName(conn, args.name);
      const response = await withSandboxSuggestion(conn, sandbox, () =>
        callUnary(conn.client.getPolicy.bind(conn.client), {
          sandbox,
          ...(flags.rev === undefined ? {} : { version: flags.rev }),
        }),
      );
      await rememberSandbox(conn, sandbox);
      if (flags.output === 'table') process.stdout.write(formatPolicyGet(response, flags.full));
      else this.printStructured(flags.output, policyGetToJson(response, flags.full));
    } finally {
      conn.close();
    }
  }
}
