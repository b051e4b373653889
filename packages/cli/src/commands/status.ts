import { isOpenShellError, toOpenShellError } from '@openshell/policy-schema';
import { BaseCommand, outputFlag } from '../base-command.js';
import { callUnary } from '../gateway/call-unary.js';
import { resolveGatewayTarget } from '../gateway/gateway-client.js';

interface StatusResult {
  gateway: string;
  server: string;
  status: 'Connected' | 'Disconnected' | 'Error';
  reason: string | null;
  authentication: string | null;
  version: string | null;
  driver: string | null;
  proxy_connected: boolean | null;
  sandbox_count: number | null;
}

export default class Status extends BaseCommand {
  static override summary = 'Show whether the gateway is reachable and what it runs.';
  static override description =
    'Connects to the selected gateway (starting the local one when it is not running) and ' +
    'prints its name, server URL, connection status, authentication, version, compute driver, ' +
    'whether the egress proxy is connected, and the number of sandboxes. Exit 0 even when ' +
    'disconnected: the status line says why.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status -o json'];
  static override flags = { output: outputFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(Status);
    const target = await resolveGatewayTarget({
      gateway: flags.gateway,
      endpoint: flags['gateway-endpoint'],
    });
    const result: StatusResult = {
      gateway: target.name,
      server: target.endpoint,
      status: 'Disconnected',
      reason: null,
      authentication: null,
      version: null,
      driver: null,
      proxy_connected: null,
      sandbox_count: null,
    };
    try {
      const conn = await this.connect(flags);
      try {
        const s = await callUnary(conn.client.getStatus.bind(conn.client), {});
        Object.assign(result, {
          server: conn.endpoint,
          status: 'Connected',
          authentication: s.authMode === '' ? null : s.authMode,
          version: s.version,
          driver: s.driver,
          proxy_connected: s.proxyConnected,
          sandbox_count: s.sandboxCount,
        } satisfies Partial<StatusResult>);
      } finally {
        conn.close();
      }
    } catch (err) {
      // Unreachable is a state to report, not a failure of `status`; anything else (bad
      // credentials, a gateway error) is shown as Error with its message.
      const error = toOpenShellError(err);
      result.status =
        isOpenShellError(err) && err.code === 'ERR_GATEWAY_UNAVAILABLE' ? 'Disconnected' : 'Error';
      result.reason = error.message;
    }
    if (flags.output !== 'table') {
      this.printStructured(flags.output, result);
      return;
    }
    const statusLine =
      result.reason === null ? result.status : `${result.status} (${result.reason})`;
    const lines = [
      `Gateway:         ${result.gateway}`,
      `Server:          ${result.server}`,
      `Status:          ${statusLine}`,
    ];
    if (result.status === 'Connected') {
      lines.push(
        `Authentication:  ${result.authentication ?? '-'}`,
        `Version:         ${result.version ?? '-'}`,
        `Driver:          ${result.driver ?? '-'}`,
        `Proxy:           ${result.proxy_connected === true ? 'connected' : 'not connected'}`,
        `Sandboxes:       ${result.sandbox_count ?? 0}`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
