import { spawn } from 'node:child_process';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { loadDaemonLayout } from '../../gateway/daemon-layout.js';
import {
  adoptLocalGateway,
  buildDaemonArgs,
  readRunningDaemon,
  resolveDaemonBin,
  startLocalGateway,
  type LocalGatewaySettings,
} from '../../gateway/local-daemon.js';
import { resolveLocalStateDir } from '../../gateway/local-state-dir.js';

export default class GatewayStart extends BaseCommand {
  static override summary = 'Start the local gateway and egress proxy daemon.';
  static override description =
    'Starts the gateway (gRPC API over mTLS) and its egress proxy in the background, waits ' +
    'until it is ready, and stores its client credentials in the config dir. If it is already ' +
    'running, says so and exits 0. --resolve and --upstream-ca are passed to the proxy (air-gapped ' +
    'tests, private mirrors). Commands start the local gateway on their own when needed; this ' +
    'command is for choosing non-default settings.';
  static override examples = [
    '<%= config.bin %> gateway start',
    '<%= config.bin %> gateway start --resolve example.com:443=127.0.0.1:8443 --upstream-ca ca.pem',
    '<%= config.bin %> gateway start --foreground',
  ];
  static override flags = {
    driver: Flags.string({
      description: 'Compute driver.',
      options: ['local', 'docker'],
    }),
    // No oclif default: the defaults live in @openshell/gateway, loaded only when running.
    port: Flags.integer({
      description: 'gRPC port of the API (default 17670).',
      min: 0,
      max: 65535,
    }),
    'http-port': Flags.integer({
      description: 'HTTP port for /healthz, /readyz and /metrics (default 17671).',
      min: 0,
      max: 65535,
    }),
    'state-dir': Flags.string({
      description: 'State directory (default $OPENSHELL_STATE_DIR or /var/lib/openshell).',
    }),
    resolve: Flags.string({
      description: 'Proxy resolve override HOST:PORT=ADDR:PORT (repeatable).',
      multiple: true,
      default: [],
    }),
    'upstream-ca': Flags.string({ description: 'Extra CA (PEM) the proxy trusts upstream.' }),
    foreground: Flags.boolean({
      description: 'Run in the foreground with logs on this terminal; Ctrl-C stops it.',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(GatewayStart);
    const layout = await loadDaemonLayout();
    const settings: LocalGatewaySettings = {
      stateDir: await resolveLocalStateDir(flags['state-dir']),
      port: flags.port ?? layout.DEFAULT_GRPC_PORT,
      httpPort: flags['http-port'] ?? layout.DEFAULT_HTTP_PORT,
      resolve: flags.resolve,
      ...(flags.driver !== undefined ? { driver: flags.driver } : {}),
      ...(flags['upstream-ca'] !== undefined ? { upstreamCa: flags['upstream-ca'] } : {}),
    };
    if (flags.foreground) {
      this.exit(await this.runForeground(settings));
      return;
    }
    const progress = this.createProgress();
    const result = await startLocalGateway(settings, { progress, activate: true });
    progress.stop();
    const { state } = result;
    process.stdout.write(
      result.alreadyRunning
        ? `The local gateway is already running (pid ${state.pid}, ${state.grpcEndpoint}).\n`
        : `✓ Started the local gateway (pid ${state.pid}, ${state.grpcEndpoint}; logs: openshell gateway logs)\n`,
    );
  }

  /** Runs the daemon attached to this terminal; returns its exit code. */
  private async runForeground(settings: LocalGatewaySettings): Promise<number> {
    const running = await readRunningDaemon(settings.stateDir);
    if (running !== undefined) {
      process.stdout.write(
        `The local gateway is already running (pid ${running.state.pid}); stop it first with 'openshell gateway stop'.\n`,
      );
      return 0;
    }
    const { daemonPaths, readDaemonState } = await loadDaemonLayout();
    const paths = daemonPaths(settings.stateDir);
    const bin = await resolveDaemonBin();
    const child = spawn(process.execPath, [bin, ...buildDaemonArgs(settings)], {
      stdio: 'inherit',
    });
    // The terminal's Ctrl-C reaches the daemon through the process group; a SIGTERM sent to
    // this CLI alone is passed on so the daemon still shuts down cleanly.
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    process.on('SIGTERM', forward('SIGTERM'));
    process.on('SIGINT', () => {});
    const adopt = (async () => {
      for (;;) {
        const state = await readDaemonState(paths);
        if (state !== undefined && state.pid === child.pid) {
          await adoptLocalGateway(paths, state, { activate: true });
          return;
        }
        if (child.exitCode !== null || child.signalCode !== null) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const code = await new Promise<number>((resolve) => {
      child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal === null ? 1 : 0)));
    });
    await adopt;
    return code;
  }
}
