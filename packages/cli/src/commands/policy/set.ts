import { Args, Flags } from '@oclif/core';
import { formatDiagnostic } from '@openshell/policy-schema';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';
import {
  rememberSandbox,
  resolveSandboxName,
  withSandboxSuggestion,
} from '../../gateway/sandbox-ref.js';
import {
  confirmRemovals,
  createTerminalConfirmDeps,
  findRemovedPolicies,
} from '../../policy/confirm-removals.js';
import { readPolicyForSet } from '../../policy/read-policy-for-set.js';
import { requireRevision } from '../../policy/revision-view.js';
import { toWaitFields, waitFlags, writeResultToJson } from '../../policy/write-flags.js';
import { describeWriteOutcome } from '../../policy/write-outcome.js';

export default class PolicySet extends BaseCommand {
  static override summary = "Replace a sandbox's dynamic policy sections from a file.";
  static override description =
    'Validates FILE locally (exit 2 with file:line:col diagnostics), then sends it to the gateway, ' +
    'which applies network_policies and inference to new connections and refuses changes to the ' +
    'static sections (filesystem_policy, landlock, process) with exit 2. A leftover `policy get ' +
    '--full` header is stripped (noted on stderr). When the file would remove network policies ' +
    'that are active, they are listed and you are asked to confirm; scripts pass --yes. ' +
    'With --wait: exit 0 loaded, 1 failed, 124 timed out.';
  static override examples = [
    '<%= config.bin %> policy set demo --policy policy.yaml --wait',
    '<%= config.bin %> policy get demo --full > p.yaml && $EDITOR p.yaml && <%= config.bin %> policy set demo --policy p.yaml',
  ];
  static override args = {
    name: Args.string({ description: 'Sandbox name (default: the last one used).' }),
  };
  static override flags = {
    policy: Flags.string({ description: 'Policy YAML file (- for stdin).', required: true }),
    yes: Flags.boolean({
      char: 'y',
      description: 'Apply even when active network policies would be removed.',
      default: false,
    }),
    ...waitFlags,
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PolicySet);
    const input = await readPolicyForSet(flags.policy);
    if (input.headerStripped) {
      process.stderr.write(
        `note: ignored the 'policy get --full' header above the first '---' in ${input.fileName}; applying the policy below it\n`,
      );
    }
    for (const warning of input.warnings) process.stderr.write(`${formatDiagnostic(warning)}\n`);

    const conn = await this.connect(flags);
    try {
      const sandbox = await resolveSandboxName(conn, args.name);
      const active = await withSandboxSuggestion(conn, sandbox, () =>
        callUnary(conn.client.getPolicy.bind(conn.client), { sandbox }),
      );
      const removed = flags.yes ? [] : findRemovedPolicies(active.yaml, input.policy);
      const confirmed = await confirmRemovals(
        removed,
        { yes: flags.yes, sandbox },
        createTerminalConfirmDeps(),
      );
      if (!confirmed) {
        process.stderr.write('Aborted; the policy was not changed.\n');
        this.exit(1);
      }

      const wait = toWaitFields(flags);
      const response = await callUnary(
        conn.client.setPolicy.bind(conn.client),
        { sandbox, yaml: input.text, fileName: input.fileName, ...wait.request },
        { deadlineMs: wait.deadlineMs },
      );
      await rememberSandbox(conn, sandbox);
      const outcome = describeWriteOutcome(response, {
        wait: flags.wait,
        timeoutSeconds: flags.timeout,
        sandbox,
      });
      if (flags.output === 'table') {
        (outcome.stream === 'stdout' ? process.stdout : process.stderr).write(
          `${outcome.message}\n`,
        );
      } else {
        this.printStructured(
          flags.output,
          writeResultToJson({ ...response, revision: requireRevision(response.revision) }),
        );
        if (outcome.exitCode !== 0) process.stderr.write(`${outcome.message}\n`);
      }
      if (outcome.exitCode !== 0) this.exit(outcome.exitCode);
    } finally {
      conn.close();
    }
  }
}
