import { Args, Flags } from '@oclif/core';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';
import {
  rememberSandbox,
  resolveSandboxName,
  withSandboxSuggestion,
} from '../../gateway/sandbox-ref.js';
import {
  UPDATE_OP_FLAGS,
  parseUpdateOperations,
  type UpdateOpFlag,
  type UpdateOpToken,
} from '../../policy/parse-update-ops.js';
import { requireRevision } from '../../policy/revision-view.js';
import { toWaitFields, waitFlags, writeResultToJson } from '../../policy/write-flags.js';
import { describeWriteOutcome } from '../../policy/write-outcome.js';
import { OpenShellError } from '@openshell/policy-schema';

export default class PolicyUpdate extends BaseCommand {
  static override summary = "Edit a sandbox's network policies incrementally, as one revision.";
  static override description =
    'Operations apply in the order given, to the active policy, atomically: if one fails, none ' +
    'is applied. --add-endpoint takes host:port[:access[:protocol[:enforcement]]] (access: ' +
    'read-only, read-write, full; protocol: rest; enforcement: enforce, audit) and every --binary ' +
    'applies to every --add-endpoint. --add-allow/--add-deny take host:port:METHOD:glob and add an ' +
    'L7 rule to the policy holding that endpoint. --dry-run prints the resulting policy without ' +
    'storing it.';
  static override examples = [
    '<%= config.bin %> policy update demo --add-endpoint api.github.com:443:read-only --binary /usr/bin/gh --wait',
    '<%= config.bin %> policy update demo --add-deny api.github.com:443:POST:/repos/*/*/issues --dry-run',
    '<%= config.bin %> policy update demo --remove-endpoint pypi.org:443',
  ];
  static override args = {
    name: Args.string({ description: 'Sandbox name (default: the last one used).' }),
  };
  // Repeatable flags are non-greedy (one value per occurrence) so they never swallow NAME.
  static override flags = {
    'add-endpoint': Flags.string({
      description: 'Allow host:port[:access[:protocol[:enforcement]]] (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    binary: Flags.string({
      description: 'Binary path or glob allowed to use the added endpoints (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'remove-endpoint': Flags.string({
      description: 'Remove the endpoint host:port (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'add-allow': Flags.string({
      description: 'Add an L7 allow rule host:port:METHOD:glob (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'add-deny': Flags.string({
      description: 'Add an L7 deny rule host:port:METHOD:glob (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'policy-id': Flags.string({
      description:
        'Network policy id the endpoints are added to (default: derived from host and port).',
    }),
    'dry-run': Flags.boolean({
      description: 'Print the resulting policy YAML; store nothing.',
      default: false,
    }),
    ...waitFlags,
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { args, flags, raw } = await this.parse(PolicyUpdate);
    if (flags['dry-run'] && flags.wait) {
      throw new OpenShellError(
        'ERR_USAGE',
        '--wait and --dry-run exclude each other: a dry run stores nothing to wait for',
      );
    }
    // oclif groups values per flag; the raw tokens keep the command-line order across flags.
    const tokens: UpdateOpToken[] = raw.flatMap((token) =>
      token.type === 'flag' && (UPDATE_OP_FLAGS as readonly string[]).includes(token.flag)
        ? [{ flag: token.flag as UpdateOpFlag, value: token.input }]
        : [],
    );
    const operations = parseUpdateOperations(tokens, {
      binaries: flags.binary ?? [],
      policyId: flags['policy-id'],
    });

    const conn = await this.connect(flags);
    try {
      const sandbox = await resolveSandboxName(conn, args.name);
      const wait = toWaitFields(flags);
      const response = await withSandboxSuggestion(conn, sandbox, () =>
        callUnary(
          conn.client.updatePolicy.bind(conn.client),
          { sandbox, operations, dryRun: flags['dry-run'], ...wait.request },
          { deadlineMs: wait.deadlineMs },
        ),
      );
      await rememberSandbox(conn, sandbox);
      const revision = requireRevision(response.revision);
      if (flags['dry-run']) {
        if (flags.output === 'table') {
          process.stderr.write(
            response.unchanged
              ? `Dry run: no change (the policy stays at version ${revision.version})\n`
              : `Dry run: would create version ${revision.version} (hash ${revision.hash.slice(0, 12)}); nothing stored\n`,
          );
          process.stdout.write(response.yaml.endsWith('\n') ? response.yaml : `${response.yaml}\n`);
        } else {
          this.printStructured(flags.output, {
            ...writeResultToJson({ ...response, revision }),
            dry_run: true,
            yaml: response.yaml,
          });
        }
        return;
      }
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
        this.printStructured(flags.output, {
          ...writeResultToJson({ ...response, revision }),
          dry_run: false,
        });
        if (outcome.exitCode !== 0) process.stderr.write(`${outcome.message}\n`);
      }
      if (outcome.exitCode !== 0) this.exit(outcome.exitCode);
    } finally {
      conn.close();
    }
  }
}
