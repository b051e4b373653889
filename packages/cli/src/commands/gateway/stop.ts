import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { stopLocalGateway } from '../../gateway/local-daemon.js';
import { resolveLocalStateDir } from '../../gateway/local-state-dir.js';

export default class GatewayStop extends BaseCommand {
  static override summary = 'Stop the local gateway daemon.';
  static override description =
    'Sends SIGTERM to the local gateway and waits for it to exit (SIGKILL after 10 s). ' +
    'Sandboxes keep running and are re-attached on the next start. Exit 0 when it was not running.';
  static override examples = ['<%= config.bin %> gateway stop'];
  static override flags = {
    'state-dir': Flags.string({ description: 'State directory of the daemon to stop.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(GatewayStop);
    const stateDir = await resolveLocalStateDir(flags['state-dir']);
    const progress = this.createProgress();
    const stopped = await stopLocalGateway(stateDir, progress);
    progress.stop();
    if (stopped === undefined) {
      process.stdout.write(`The local gateway is not running (state dir ${stateDir}).\n`);
      return;
    }
    process.stdout.write(
      `✓ Stopped the local gateway (pid ${stopped.pid}${stopped.forced ? ', killed after it ignored SIGTERM' : ''})\n`,
    );
  }
}
