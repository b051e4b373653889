import { Args, Flags } from '@oclif/core';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';
import { resolveSandboxName, withSandboxSuggestion } from '../../gateway/sandbox-ref.js';
import { formatTime } from '../../render/format-time.js';
import { toPhaseName, toSandboxRecord } from '../../sandbox/sandbox-record.js';

export default class SandboxGet extends BaseCommand {
  static override summary = 'Show one sandbox and its effective policy.';
  static override description =
    'Prints the metadata block (name, id, phase, creation time, labels, spec, policy version) ' +
    'then `---` and the effective policy YAML. --policy-only prints only the YAML, ready for ' +
    '`policy set`. Without NAME, the last-used sandbox.';
  static override examples = [
    '<%= config.bin %> sandbox get demo',
    '<%= config.bin %> sandbox get demo --policy-only > policy.yaml',
    '<%= config.bin %> sandbox get -o json',
  ];
  static override args = {
    name: Args.string({ description: 'Sandbox name (default: the last-used sandbox).' }),
  };
  static override flags = {
    'policy-only': Flags.boolean({ description: 'Print only the effective policy YAML.' }),
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SandboxGet);
    const conn = await this.connect(flags);
    try {
      const name = await resolveSandboxName(conn, args.name);
      const { sandbox, policy } = await withSandboxSuggestion(conn, name, async () => {
        const got = await callUnary(conn.client.getSandbox.bind(conn.client), { sandbox: name });
        const pol = await callUnary(conn.client.getPolicy.bind(conn.client), { sandbox: name });
        return { sandbox: got.sandbox, policy: pol };
      });
      if (sandbox === undefined) return;
      if (flags['policy-only']) {
        process.stdout.write(policy.yaml.endsWith('\n') ? policy.yaml : `${policy.yaml}\n`);
        return;
      }
      const spec = sandbox.spec;
      if (flags.output !== 'table') {
        this.printStructured(flags.output, {
          ...toSandboxRecord(sandbox),
          phase_reason: sandbox.phaseReason ?? null,
          spec: {
            from: spec?.from ?? null,
            providers: spec?.providers ?? [],
            env: spec?.env ?? {},
            command: spec?.command ?? [],
            tty: spec?.tty ?? false,
            cpu_millicores: spec?.cpuMillicores ?? null,
            memory_bytes: spec?.memoryBytes ?? null,
            delete_on_exit: spec?.deleteOnExit ?? false,
          },
          policy: {
            version: policy.revision?.version ?? null,
            hash: policy.revision?.hash ?? null,
            active_version: policy.activeVersion,
            yaml: policy.yaml,
          },
        });
        return;
      }
      const labels = Object.entries(sandbox.labels).map(([k, v]) => `${k}=${v}`);
      const rows: [string, string][] = [
        ['Name', sandbox.name],
        ['Id', sandbox.id],
        [
          'Phase',
          sandbox.phaseReason === undefined
            ? toPhaseName(sandbox.phase)
            : `${toPhaseName(sandbox.phase)} (${sandbox.phaseReason})`,
        ],
        ['Created', formatTime(sandbox.createdAtMs)],
        ['Labels', labels.length === 0 ? '-' : labels.join(', ')],
        ['From', spec?.from ?? 'host'],
        [
          'Command',
          spec === undefined || spec.command.length === 0 ? '/bin/bash -l' : spec.command.join(' '),
        ],
        [
          'Providers',
          spec === undefined || spec.providers.length === 0 ? '-' : spec.providers.join(', '),
        ],
        ['CPU', spec?.cpuMillicores === undefined ? '-' : `${spec.cpuMillicores / 1000}`],
        ['Memory', spec?.memoryBytes === undefined ? '-' : `${spec.memoryBytes} bytes`],
        ['Policy', `version ${sandbox.currentPolicyVersion}`],
      ];
      const body = rows.map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`).join('\n');
      process.stdout.write(
        `${body}\n---\n${policy.yaml.endsWith('\n') ? policy.yaml : `${policy.yaml}\n`}`,
      );
    } finally {
      conn.close();
    }
  }
}
