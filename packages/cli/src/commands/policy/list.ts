import { Args } from '@oclif/core';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';
import {
  rememberSandbox,
  resolveSandboxName,
  withSandboxSuggestion,
} from '../../gateway/sandbox-ref.js';
import { formatRevisionList, revisionToJson } from '../../policy/revision-view.js';

export default class PolicyList extends BaseCommand {
  static override summary = "List a sandbox's policy revisions, newest first.";
  static override description =
    'Columns: VERSION (the active one marked *), HASH (first 12 hex digits), STATUS ' +
    '(Pending, Loaded, Failed, Superseded), CREATED and ERROR.';
  static override examples = [
    '<%= config.bin %> policy list demo',
    '<%= config.bin %> policy list -o json',
  ];
  static override args = {
    name: Args.string({ description: 'Sandbox name (default: the last one used).' }),
  };
  static override flags = { output: outputFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PolicyList);
    const conn = await this.connect(flags);
    try {
      const sandbox = await resolveSandboxName(conn, args.name);
      const response = await withSandboxSuggestion(conn, sandbox, () =>
        callUnary(conn.client.listPolicyRevisions.bind(conn.client), { sandbox }),
      );
      await rememberSandbox(conn, sandbox);
      if (flags.output === 'table') {
        process.stdout.write(formatRevisionList(response.revisions, response.activeVersion));
        return;
      }
      const revisions = [...response.revisions]
        .sort((a, b) => b.version - a.version)
        .map((r) => revisionToJson(r, response.activeVersion));
      this.printStructured(flags.output, revisions);
    } finally {
      conn.close();
    }
  }
}
