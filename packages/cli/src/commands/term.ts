import { OpenShellError } from '@openshell/policy-schema';
import type { OpenShellClient } from '@openshell/proto';
import { render } from 'ink';
import { createElement } from 'react';
import { BaseCommand } from '../base-command.js';
import type { GatewayConnection } from '../gateway/gateway-client.js';
import { SILENT_PROGRESS } from '../render/progress.js';
import { TermApp } from '../term/term-app.js';
import { shouldUseColor } from '../term/term-colors.js';
import { createTermGateway } from '../term/term-gateway.js';

// Alternate screen buffer (xterm, DECSET 1049): the dashboard draws on its own screen and the
// user's scrollback comes back untouched on exit.
const ENTER_ALT_SCREEN = '\u001b[?1049h\u001b[H';
const LEAVE_ALT_SCREEN = '\u001b[?1049l';

export default class Term extends BaseCommand {
  static override summary = 'Live dashboard: sandboxes, policies and decisions.';
  static override description =
    'Full-screen view fed by the gateway’s streams: sandboxes (name, phase, age, policy version, ' +
    'allowed/denied counts), the selected sandbox’s details, effective policy and live decision ' +
    'log. Keys: j/k or arrows move, Enter details, l logs, p policy, f follow, / filter text, ' +
    'a filter action, d delete (asks y/n), ? help, q or Ctrl-C quit. NO_COLOR turns colour off. ' +
    'When the gateway is unreachable the dashboard says so and reconnects when it returns.';
  static override examples = ['<%= config.bin %> term', 'NO_COLOR=1 <%= config.bin %> term'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Term);
    if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) {
      throw new OpenShellError(
        'ERR_USAGE',
        'openshell term needs a terminal (stdin and stdout a TTY); in scripts use ' +
          "'openshell sandbox list -o json' or 'openshell logs --tail -o json'",
      );
    }
    let conn: GatewayConnection | undefined;
    let attempts = 0;
    const getClient = async (): Promise<OpenShellClient> => {
      if (conn !== undefined) return conn.client;
      attempts += 1;
      // Only the first attempt may start the local gateway: after that, a gateway that is down
      // was stopped on purpose and the dashboard waits for it. Progress would draw over the
      // dashboard, which shows "connecting…" itself.
      conn = await this.connect(flags, { autoStart: attempts === 1, progress: SILENT_PROGRESS });
      return conn.client;
    };
    const gateway = createTermGateway(getClient);
    process.stdout.write(ENTER_ALT_SCREEN);
    const restore = (): void => {
      process.stdout.write(LEAVE_ALT_SCREEN);
    };
    process.once('exit', restore);
    try {
      const app = render(
        createElement(TermApp, {
          gateway,
          color: shouldUseColor(process.env, process.stdout.isTTY),
        }),
        { exitOnCtrlC: false, patchConsole: true },
      );
      await app.waitUntilExit();
    } finally {
      process.off('exit', restore);
      restore();
      conn?.close();
    }
  }
}
