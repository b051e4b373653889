import { Flags } from '@oclif/core';
import { OpenShellError } from '@openshell/policy-schema';
import type { CreateSandboxRequest } from '@openshell/proto';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { callUnary } from '../../gateway/call-unary.js';
import { rememberSandbox } from '../../gateway/sandbox-ref.js';
import { choosePolicy, describePresetUse } from '../../sandbox/agent-policy.js';
import { ensureAgentProviders } from '../../sandbox/ensure-providers.js';
import {
  parseCpu,
  parseKeyValues,
  parseMemory,
  parseUploadSpec,
  readCommandAfterDashes,
} from '../../sandbox/parse-options.js';
import { runExec } from '../../sandbox/run-exec.js';
import { toSandboxRecord } from '../../sandbox/sandbox-record.js';
import { toExitCode } from '../../sandbox/terminal.js';
import { waitForReady } from '../../sandbox/wait-ready.js';
import { uploadPath } from '../../transfer/transfer-rpc.js';

const DEFAULT_COMMAND = ['/bin/bash', '-l'];

export default class SandboxCreate extends BaseCommand {
  static override summary = 'Create a sandbox and run a command in it.';
  static override description =
    'Creates the sandbox, waits until it is Ready, uploads --upload paths, then runs CMD ' +
    '(default /bin/bash -l) attached to this terminal and exits with its exit code; the sandbox ' +
    'stays Ready afterwards unless --no-keep. With --detach, CMD becomes the sandbox main process ' +
    'and the command returns once Ready. Credentials for a known agent (claude, codex, opencode, ' +
    'copilot, gh) can be turned into a provider from your environment with --auto-providers. ' +
    'Without --policy, a known agent (claude, codex, opencode, copilot) gets its built-in policy, ' +
    'which allows only the hosts that agent needs; --no-preset denies all egress instead.';
  static override examples = [
    '<%= config.bin %> sandbox create --name demo -- claude',
    '<%= config.bin %> sandbox create --policy policy.yaml --cpu 1.5 --memory 2g -- bash',
    '<%= config.bin %> sandbox create --name worker --detach -- python serve.py',
  ];
  static override usage = 'sandbox create [FLAGS] [-- CMD...]';
  // Everything after `--` is the command, flags included.
  static override strict = false;
  static override flags = {
    name: Flags.string({ description: 'Sandbox name (default: a two-word petname).' }),
    from: Flags.string({ description: 'Root filesystem directory or image.' }),
    policy: Flags.string({
      description: "Policy YAML file (default: the agent's built-in preset, else deny all egress).",
    }),
    preset: Flags.boolean({
      description:
        'Use the built-in policy of a known agent (claude, codex, opencode, copilot) when no ' +
        '--policy is given (default; --no-preset denies all egress instead).',
      allowNo: true,
      default: true,
    }),
    provider: Flags.string({
      description: 'Provider whose credentials the sandbox may use (repeatable).',
      multiple: true,
    }),
    'auto-providers': Flags.boolean({
      description: "Create a provider from the agent's credentials in your environment.",
      allowNo: true,
    }),
    env: Flags.string({ description: 'Environment variable K=V (repeatable).', multiple: true }),
    label: Flags.string({ description: 'Label k=v (repeatable).', multiple: true }),
    cpu: Flags.string({ description: 'CPU limit in CPUs, e.g. 1.5.' }),
    memory: Flags.string({ description: 'Memory limit, e.g. 512m or 2g.' }),
    upload: Flags.string({
      description: 'Upload SRC[:DST] before running the command (repeatable).',
      multiple: true,
    }),
    keep: Flags.boolean({
      description: 'Keep the sandbox after the command ends (default; --no-keep deletes it).',
      allowNo: true,
      default: true,
    }),
    detach: Flags.boolean({ description: 'Run CMD as the main process and return once Ready.' }),
    tty: Flags.boolean({
      description: 'Allocate a PTY (default: when stdin is a terminal).',
      allowNo: true,
    }),
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(SandboxCreate);
    const providers = flags.provider ?? [];
    const given = readCommandAfterDashes(this.argv, argv);
    const command = given.length === 0 ? DEFAULT_COMMAND : given;
    // Everything the user typed is checked before the first RPC, so a typo costs no sandbox.
    const cpuMillicores = flags.cpu === undefined ? undefined : parseCpu(flags.cpu);
    const memoryBytes = flags.memory === undefined ? undefined : parseMemory(flags.memory);
    const env = parseKeyValues('--env', flags.env ?? []);
    const labels = parseKeyValues('--label', flags.label ?? []);
    const uploads = (flags.upload ?? []).map(parseUploadSpec);
    const policy = await choosePolicy({
      policyFile: flags.policy,
      usePreset: flags.preset,
      command: given,
    });
    if (flags.detach && uploads.length > 0) {
      throw new OpenShellError(
        'ERR_USAGE',
        '--upload needs the files in place before the command starts, which --detach cannot wait for; ' +
          "drop --detach, or upload afterwards with 'openshell sandbox upload'",
      );
    }
    const tty = flags.tty ?? process.stdin.isTTY === true;

    const progress = this.createProgress();
    const conn = await this.connect(flags, { progress });
    let created: string | undefined;
    try {
      const autoProviders = await ensureAgentProviders(
        conn,
        given,
        flags['auto-providers'],
        providers,
      );
      const request: CreateSandboxRequest = {
        ...(flags.name !== undefined ? { name: flags.name } : {}),
        labels,
        spec: {
          ...(flags.from !== undefined ? { from: flags.from } : {}),
          providers: [...providers, ...autoProviders],
          env,
          // Without --detach the gateway runs an idle main process and the command is the
          // first attached session (gateway-wire.md "sandbox create semantics").
          command: flags.detach ? given : [],
          tty: flags.detach ? tty : false,
          ...(cpuMillicores !== undefined ? { cpuMillicores } : {}),
          ...(memoryBytes !== undefined ? { memoryBytes } : {}),
          deleteOnExit: flags.detach && !flags.keep,
        },
        ...(policy !== undefined
          ? { policyYaml: policy.yaml, policyFileName: policy.fileName }
          : {}),
      };
      progress.step('Creating sandbox');
      const res = await callUnary(conn.client.createSandbox.bind(conn.client), request);
      const sandbox = res.sandbox;
      if (sandbox === undefined) {
        throw new OpenShellError(
          'ERR_INTERNAL',
          'the gateway answered CreateSandbox without a sandbox',
        );
      }
      created = sandbox.name;
      progress.done(`Created sandbox ${sandbox.name}`);
      const presetNote =
        policy?.preset === undefined
          ? undefined
          : describePresetUse(policy.preset, sandbox.name, {
              stderrIsTty: process.stderr.isTTY === true,
              verbosity: this.verbosity,
            });
      if (presetNote !== undefined) process.stderr.write(presetNote);
      await rememberSandbox(conn, sandbox.name);
      progress.step(`Provisioning sandbox ${sandbox.name}`);
      const ready = await waitForReady(conn, sandbox.id, sandbox.name, progress);
      progress.done(`Sandbox ${sandbox.name} is Ready`);

      if (flags.output !== 'table') this.printStructured(flags.output, toSandboxRecord(ready));
      else if (flags.detach) process.stdout.write(`${ready.name}\n`);
      if (flags.detach) return;

      for (const upload of uploads) {
        progress.step(`Uploading ${upload.source}`);
        const result = await uploadPath(conn, ready.name, upload.source, upload.dest, {
          gitIgnore: true,
        });
        progress.done(
          `Uploaded ${upload.source} (${result.entriesWritten} entries, ${result.bytesReceived} bytes)`,
        );
      }
      progress.stop();
      const exit = await runExec(conn, { sandbox: ready.name, argv: command, env, tty });
      if (!flags.keep) {
        await callUnary(conn.client.deleteSandbox.bind(conn.client), { sandbox: ready.name });
        created = undefined;
        if (this.verbosity > 0)
          process.stderr.write(`✓ Deleted sandbox ${ready.name} (--no-keep)\n`);
      }
      this.exit(toExitCode(exit));
    } finally {
      progress.stop();
      if (created !== undefined && !flags.keep && !flags.detach) {
        // --no-keep promises the sandbox goes away however the session ended.
        await callUnary(conn.client.deleteSandbox.bind(conn.client), { sandbox: created }).catch(
          () => {
            process.stderr.write(
              `! Could not delete sandbox ${created ?? ''}; run 'openshell sandbox delete ${created ?? ''}'\n`,
            );
          },
        );
      }
      conn.close();
    }
  }
}
