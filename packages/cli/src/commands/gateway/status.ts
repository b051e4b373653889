import { Flags } from '@oclif/core';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { loadDaemonLayout } from '../../gateway/daemon-layout.js';
import { readRunningDaemon } from '../../gateway/local-daemon.js';
import { resolveLocalStateDir } from '../../gateway/local-state-dir.js';
import { formatDuration, formatTime } from '../../render/format-time.js';

export default class GatewayStatus extends BaseCommand {
  static override summary = 'Show whether the local gateway daemon runs, and where.';
  static override description =
    'Reads the daemon state file: pid, gRPC and HTTP endpoints, state dir, log file, version, ' +
    'driver and uptime. Exit 0 whether or not it runs (see "running" in -o json).';
  static override examples = [
    '<%= config.bin %> gateway status',
    '<%= config.bin %> gateway status -o json',
  ];
  static override flags = {
    'state-dir': Flags.string({ description: 'State directory of the daemon.' }),
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(GatewayStatus);
    const stateDir = await resolveLocalStateDir(flags['state-dir']);
    const paths = (await loadDaemonLayout()).daemonPaths(stateDir);
    const running = await readRunningDaemon(stateDir);
    const state = running?.state;
    const now = Date.now();
    const result = {
      running: state !== undefined,
      pid: state?.pid ?? null,
      version: state?.version ?? null,
      grpc_endpoint: state?.grpcEndpoint ?? null,
      http_endpoint: state?.httpEndpoint ?? null,
      driver: state?.driver ?? null,
      proxy_pid: state?.proxyPid ?? null,
      started_at: state === undefined ? null : new Date(state.startedAtMs).toISOString(),
      uptime_s: state === undefined ? null : Math.floor((now - state.startedAtMs) / 1000),
      state_dir: paths.root,
      log_file: paths.logFile,
    };
    if (flags.output !== 'table') {
      this.printStructured(flags.output, result);
      return;
    }
    const lines =
      state === undefined
        ? [`Status:     not running`]
        : [
            `Status:     running`,
            `PID:        ${state.pid}`,
            `Version:    ${state.version}`,
            `gRPC:       ${state.grpcEndpoint}`,
            `HTTP:       ${state.httpEndpoint}`,
            `Driver:     ${state.driver}`,
            ...(state.proxyPid !== undefined ? [`Proxy PID:  ${state.proxyPid}`] : []),
            `Started:    ${formatTime(state.startedAtMs)} (up ${formatDuration(now - state.startedAtMs)})`,
          ];
    lines.push(`State dir:  ${paths.root}`, `Log file:   ${paths.logFile}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
