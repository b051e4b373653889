import { checkHost, type HostCheckStatus } from '@openshell/gateway';
import { BaseCommand, outputFlag } from '../base-command.js';

const MARK: Record<HostCheckStatus, string> = { ok: '✓', warn: '!', missing: '✗' };

export default class Doctor extends BaseCommand {
  static override summary = 'Report what this host can enforce, and how to fix what is missing.';
  static override description =
    'Checks the pieces the local sandbox driver relies on: root, bubblewrap, nftables, ' +
    'iproute2, the native launcher, Landlock (ABI), seccomp, no_new_privs and the cgroup ' +
    'controllers for limits. Each problem comes with the package to install or the kernel ' +
    'option to enable. Exit 0 when everything required is present (warnings allowed), 1 otherwise.';
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor -o json'];
  static override flags = { output: outputFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor);
    const report = await checkHost();
    if (flags.output === 'table') {
      const width = Math.max(...report.checks.map((c) => c.name.length));
      const lines = report.checks.map((c) => {
        const head = `${MARK[c.status]} ${c.name.padEnd(width)}  ${c.detail}`;
        return c.fix === undefined ? head : `${head}\n  ${' '.repeat(width)}  fix: ${c.fix}`;
      });
      const missing = report.checks.filter((c) => c.status === 'missing').length;
      const warnings = report.checks.filter((c) => c.status === 'warn').length;
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
      });
    }
    if (!report.ready) this.exit(1);
  }
}
