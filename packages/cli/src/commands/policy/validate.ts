import { Args } from '@oclif/core';
import { formatDiagnostic, hashPolicy } from '@openshell/policy-schema';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { loadPolicyFile } from '../../load-policy.js';

export default class PolicyValidate extends BaseCommand {
  static override summary = 'Check a policy file offline and report every problem with its line.';
  static override description =
    'Validates FILE against the policy language (version 1). Problems are printed to stderr as ' +
    '`file:line:col path: message`. A leftover `openshell policy get --full` header is accepted. ' +
    'Exit 0 when valid, 2 when not.';
  static override examples = [
    '<%= config.bin %> policy validate policy.yaml',
    '<%= config.bin %> policy validate policy.yaml -o json',
    'cat policy.yaml | <%= config.bin %> policy validate -',
  ];
  static override args = {
    file: Args.string({ description: 'Policy YAML file (- for stdin).', required: true }),
  };
  static override flags = { output: outputFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PolicyValidate);
    const loaded = await loadPolicyFile(args.file);
    const valid = loaded.policy !== undefined;
    const hash = loaded.policy === undefined ? null : hashPolicy(loaded.policy);

    if (flags.output === 'table') {
      if (loaded.headerStripped) {
        process.stderr.write(
          `note: ignored the 'policy get --full' header above the first '---' in ${loaded.file}\n`,
        );
      }
      for (const d of loaded.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      if (loaded.policy !== undefined && hash !== null) {
        const count = Object.keys(loaded.policy.network_policies).length;
        process.stdout.write(
          `✓ ${loaded.file} is valid (hash ${hash.slice(0, 12)}, ${count} network ` +
            `${count === 1 ? 'policy' : 'policies'})\n`,
        );
      } else {
        const errors = loaded.diagnostics.filter((d) => d.severity === 'error').length;
        process.stderr.write(
          `✗ ${loaded.file} is invalid: ${errors} ${errors === 1 ? 'error' : 'errors'}\n`,
        );
      }
    } else {
      this.printStructured(flags.output, {
        file: loaded.file,
        valid,
        hash,
        header_stripped: loaded.headerStripped,
        diagnostics: loaded.diagnostics,
      });
    }
    if (!valid) this.exit(2);
  }
}
