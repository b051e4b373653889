import { Flags } from '@oclif/core';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';
import { formatTime } from '../../render/format-time.js';
import { renderTable } from '../../render/render-table.js';
import { parseSelector } from '../../sandbox/parse-options.js';
import { toPhaseName, toSandboxRecord } from '../../sandbox/sandbox-record.js';

export default class SandboxList extends BaseCommand {
  static override summary = 'List sandboxes.';
  static override description =
    'Shows NAME, CREATED and PHASE (Provisioning, Ready, Error, Deleting), oldest first. ' +
    '--selector keeps sandboxes whose labels match every k=v pair; --names prints only names.';
  static override examples = [
    '<%= config.bin %> sandbox list',
    '<%= config.bin %> sandbox list --selector team=infra -o json',
  ];
  static override flags = {
    selector: Flags.string({ char: 'l', description: 'Label selector k=v[,k2=v2...].' }),
    names: Flags.boolean({ description: 'Print only the names, one a line.' }),
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SandboxList);
    const labelSelector = flags.selector === undefined ? {} : parseSelector(flags.selector);
    const conn = await this.connect(flags);
    try {
      const { sandboxes } = await callUnary(conn.client.listSandboxes.bind(conn.client), {
        labelSelector,
      });
      if (flags.names) {
        if (sandboxes.length > 0) {
          process.stdout.write(`${sandboxes.map((s) => s.name).join('\n')}\n`);
        }
        return;
      }
      if (flags.output !== 'table') {
        this.printStructured(flags.output, sandboxes.map(toSandboxRecord));
        return;
      }
      if (sandboxes.length === 0) {
        process.stdout.write('No sandboxes found.\n');
        return;
      }
      process.stdout.write(
        renderTable(
          ['NAME', 'CREATED', 'PHASE'],
          sandboxes.map((s) => [s.name, formatTime(s.createdAtMs), toPhaseName(s.phase)]),
        ),
      );
    } finally {
      conn.close();
    }
  }
}
