import { Args, Flags } from '@oclif/core';
import { OpenShellError, compilePolicy, decide, type Decision } from '@openshell/policy-schema';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { loadValidPolicy } from '../../load-policy.js';
import { parseRequestUrl } from '../../parse-request-url.js';

export default class PolicyCheck extends BaseCommand {
  static override summary = 'Evaluate one request against a policy file, offline.';
  static override description =
    'Shows what the egress proxy would decide for BINARY making the request: the action ' +
    '(allow, deny or audit), the deciding policy and rule, and why. With --url the request is ' +
    'checked at L4 (host and port) and, where the endpoint has L7 rules, at L7 (method, path, ' +
    'query). With --host/--port only L4 is checked. Exit 0 when allowed (including audit), 3 when ' +
    'denied, 2 when the policy or the arguments are invalid.';
  static override examples = [
    '<%= config.bin %> policy check policy.yaml --binary /usr/bin/curl --url https://api.github.com/repos/o/r',
    '<%= config.bin %> policy check policy.yaml --binary /usr/bin/curl --url https://api.github.com/repos/o/r/issues --method POST -o json',
    '<%= config.bin %> policy check policy.yaml --binary /usr/bin/git --host github.com --port 443',
  ];
  static override args = {
    file: Args.string({ description: 'Policy YAML file (- for stdin).', required: true }),
  };
  static override flags = {
    binary: Flags.string({
      description: 'Absolute path of the calling executable (as /proc/<pid>/exe shows it).',
      required: true,
    }),
    ancestor: Flags.string({
      description: 'Executable of an ancestor process, nearest first (repeatable).',
      multiple: true,
      default: [],
    }),
    url: Flags.string({
      description: 'Request URL (http:// or https://).',
      exactlyOne: ['url', 'host'],
    }),
    method: Flags.string({ description: 'HTTP method for --url (default GET).' }),
    host: Flags.string({ description: 'Destination host (L4 check only).', dependsOn: ['port'] }),
    port: Flags.integer({ description: 'Destination port (with --host).', min: 1, max: 65535 }),
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PolicyCheck);
    if (!flags.binary.startsWith('/')) {
      throw new OpenShellError('ERR_USAGE', `--binary ${flags.binary}: must be an absolute path`);
    }
    const policy = await loadValidPolicy(args.file);
    const compiled = compilePolicy(policy);
    const base = { binary: flags.binary, ancestors: flags.ancestor };

    let request: { host: string; port: number; method?: string; target?: string };
    if (flags.url !== undefined) {
      const url = parseRequestUrl(flags.url);
      request = {
        host: url.host,
        port: url.port,
        method: (flags.method ?? 'GET').toUpperCase(),
        target: url.target,
      };
    } else if (flags.method !== undefined) {
      throw new OpenShellError('ERR_USAGE', '--method needs --url (--host/--port checks L4 only)');
    } else if (flags.host !== undefined && flags.port !== undefined) {
      request = { host: flags.host.toLowerCase(), port: flags.port };
    } else {
      throw new OpenShellError('ERR_USAGE', 'give --url URL, or --host HOST with --port PORT');
    }

    const l4 = decide(compiled, { ...base, host: request.host, port: request.port });
    let decision: Decision = l4;
    if (
      l4.action !== 'deny' &&
      l4.inspect &&
      request.method !== undefined &&
      request.target !== undefined
    ) {
      decision = decide(compiled, {
        ...base,
        ...request,
        method: request.method,
        target: request.target,
      });
    }

    const result = {
      action: decision.action,
      layer: decision.layer,
      policy: decision.policy,
      policy_name: decision.policyName,
      rule: decision.rule,
      reason: decision.reason,
      binary: flags.binary,
      matched_binary: decision.matchedBinary,
      host: request.host,
      port: request.port,
      method: request.method ?? null,
      path: request.target ?? null,
      canonical_path: decision.canonicalPath ?? null,
    };
    if (flags.output === 'table') {
      const policyText =
        decision.policy === null
          ? '-'
          : decision.policyName !== null && decision.policyName !== decision.policy
            ? `${decision.policy} (${decision.policyName})`
            : decision.policy;
      process.stdout.write(
        [
          `Action:  ${decision.action}`,
          `Layer:   ${decision.layer.toUpperCase()}`,
          `Policy:  ${policyText}`,
          `Rule:    ${decision.rule ?? '-'}`,
          `Reason:  ${decision.reason}`,
          '',
        ].join('\n'),
      );
    } else {
      this.printStructured(flags.output, result);
    }
    if (decision.action === 'deny') this.exit(3);
  }
}
