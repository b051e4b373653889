import { open, stat } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { OpenShellError } from '@openshell/policy-schema';
import { BaseCommand } from '../../base-command.js';
import { loadDaemonLayout } from '../../gateway/daemon-layout.js';
import { readLogTail } from '../../gateway/read-log-tail.js';
import { resolveLocalStateDir } from '../../gateway/local-state-dir.js';

const FOLLOW_POLL_MS = 200;

export default class GatewayLogs extends BaseCommand {
  static override summary = "Print the local gateway daemon's log.";
  static override description =
    'Prints the last lines of the daemon log file (its stdout and stderr). --follow keeps ' +
    'printing new lines until Ctrl-C. For sandbox decision and lifecycle events use `openshell logs`.';
  static override examples = [
    '<%= config.bin %> gateway logs',
    '<%= config.bin %> gateway logs -n 50 --follow',
  ];
  static override flags = {
    lines: Flags.integer({ char: 'n', description: 'Number of lines.', default: 100, min: 0 }),
    follow: Flags.boolean({ char: 'f', description: 'Keep printing new lines.' }),
    'state-dir': Flags.string({ description: 'State directory of the daemon.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(GatewayLogs);
    const { daemonPaths } = await loadDaemonLayout();
    const { logFile } = daemonPaths(await resolveLocalStateDir(flags['state-dir']));
    let size: number;
    try {
      size = (await stat(logFile)).size;
    } catch {
      throw new OpenShellError(
        'ERR_INPUT_UNREADABLE',
        `no gateway log at ${logFile}: the local gateway has not been started with this state dir (openshell gateway start)`,
      );
    }
    const tail = flags.lines === 0 ? '' : await readLogTail(logFile, flags.lines);
    if (tail !== '') process.stdout.write(`${tail}\n`);
    if (!flags.follow) return;
    // tail -F semantics: poll the size, print what was appended, start over on truncation
    // (the daemon reopens its log on restart).
    let offset = size;
    for (;;) {
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      let current: number;
      try {
        current = (await stat(logFile)).size;
      } catch {
        // Rotated or removed; wait for it to reappear.
        continue;
      }
      if (current < offset) offset = 0;
      if (current === offset) continue;
      const handle = await open(logFile, 'r');
      try {
        const buffer = Buffer.alloc(current - offset);
        await handle.read(buffer, 0, buffer.length, offset);
        process.stdout.write(buffer);
        offset = current;
      } finally {
        await handle.close();
      }
    }
  }
}
