import { Flags } from '@oclif/core';
import { checkHost, probeContainerEngine, type HostCheckStatus } from '@openshell/gateway';
import { BaseCommand, outputFlag, type OutputFormat } from '../base-command.js';
import { buildProveContext } from '../doctor/build-prove-context.js';
import { findGatewayPorts } from '../doctor/find-gateway-ports.js';
import { createGatewayProveDeps } from '../doctor/gateway-prove-deps.js';
import { loadPolicyUnderTest } from '../doctor/load-policy-under-test.js';
import { findProbe } from '../doctor/probe-path.js';
import { proveExitCode } from '../doctor/prove-summary.js';
import { renderProveTable, toProveDocument } from '../doctor/render-prove.js';
import { runProve } from '../doctor/run-prove.js';

const MARK: Record<HostCheckStatus, string> = { ok: '✓', warn: '!', missing: '✗' };

export default class Doctor extends BaseCommand {
  static override summary = 'Report what this host can enforce, and how to fix what is missing.';
  static override description =
    'Checks the pieces the local sandbox driver relies on: root, bubblewrap, nftables, ' +
    'iproute2, the native launcher, Landlock (ABI), seccomp, no_new_privs and the cgroup ' +
    'controllers for limits. Each problem comes with the package to install or the kernel ' +
    'option to enable. Exit 0 when everything required is present (warnings allowed), 1 otherwise.\n\n' +
    'With --prove, creates a throwaway sandbox through the gateway under the default policy ' +
    '(or --policy FILE), runs escape attempts inside it (host files, host /tmp, signals and ' +
    'ptrace on the agent, mounts, namespaces, setuid, raw sockets, direct and UDP/IPv6 egress, ' +
    "the gateway's ports, the proxy's L4/SSRF/L7/credential checks, core dumps, a fork bomb, " +
    'memory), prints one line per attempt with the layer that stopped it, and deletes the ' +
    'sandbox and its throwaway provider. Exit 1 when an attempt was NOT BLOCKED or a positive ' +
    'control failed (the proof is void), 0 otherwise.';
  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor -o json',
    '<%= config.bin %> doctor --prove',
    '<%= config.bin %> doctor --prove --policy policy.yaml -o json',
  ];
  static override flags = {
    output: outputFlag,
    prove: Flags.boolean({
      description: 'Run escape attempts in a throwaway sandbox and report each as blocked or not.',
    }),
    policy: Flags.string({
      description: 'Policy YAML file to prove (default: the default policy).',
      dependsOn: ['prove'],
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor);
    if (flags.prove) {
      await this.prove(flags);
      return;
    }
    const [report, engine] = await Promise.all([checkHost(), probeContainerEngine()]);
    if (flags.output === 'table') {
      const width = Math.max('container engine'.length, ...report.checks.map((c) => c.name.length));
      const lines = report.checks.map((c) => {
        const head = `${MARK[c.status]} ${c.name.padEnd(width)}  ${c.detail}`;
        return c.fix === undefined ? head : `${head}\n  ${' '.repeat(width)}  fix: ${c.fix}`;
      });
      const missing = report.checks.filter((c) => c.status === 'missing').length;
      const warnings = report.checks.filter((c) => c.status === 'warn').length;
      // Informational: the local driver needs no engine; `--driver docker` needs this one.
      lines.push(
        engine.engine === undefined
          ? `! ${'container engine'.padEnd(width)}  none at ${engine.socket} (the docker driver is unavailable: ${engine.error ?? 'no answer'})`
          : `✓ ${'container engine'.padEnd(width)}  ${engine.engine} at ${engine.socket} (for --driver docker)`,
      );
      lines.push(
        '',
        report.ready
          ? `This host can run sandboxes${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}.`
          : `This host cannot run sandboxes: ${missing} requirement${missing === 1 ? '' : 's'} missing.`,
      );
      process.stdout.write(`${lines.join('\n')}\n`);
    } else {
      this.printStructured(flags.output, {
        ready: report.ready,
        checks: report.checks.map((c) => ({ fix: null, ...c })),
        kernel: report.kernel,
        engine: {
          socket: engine.socket,
          engine: engine.engine ?? null,
          error: engine.error ?? null,
        },
      });
    }
    if (!report.ready) this.exit(1);
  }

  private async prove(flags: {
    output: OutputFormat;
    policy?: string | undefined;
    gateway?: string | undefined;
    'gateway-endpoint'?: string | undefined;
  }): Promise<void> {
    // Everything local is checked before the first RPC: a typo costs no sandbox.
    const policy = await loadPolicyUnderTest(flags.policy);
    const probePath = findProbe();
    const progress = this.createProgress();
    const conn = await this.connect(flags, { progress });
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let exitCode: number;
    try {
      const ports = await findGatewayPorts(conn, flags);
      const context = buildProveContext({
        policy: policy.policy,
        gatewayPorts: ports.loopback,
        supervisorPortHint: ports.supervisorHint,
      });
      const report = await runProve(
        { policy, context, probePath, signal: abort.signal },
        createGatewayProveDeps(conn, progress),
      );
      if (flags.output === 'table') process.stdout.write(renderProveTable(report));
      else this.printStructured(flags.output, toProveDocument(report));
      exitCode = proveExitCode(report);
    } catch (error) {
      if (!abort.signal.aborted) throw error;
      // runProve has already removed the sandbox, provider and marker by now.
      process.stderr.write('Interrupted; the throwaway sandbox was deleted.\n');
      exitCode = 130;
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      conn.close();
    }
    if (exitCode !== 0) this.exit(exitCode);
  }
}
