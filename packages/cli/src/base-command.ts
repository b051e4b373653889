import { Command, Flags, Errors } from '@oclif/core';
import { isOpenShellError, toOpenShellError } from '@openshell/policy-schema';
import { stringify as toYaml } from 'yaml';
import {
  connectGateway,
  type ConnectOptions,
  type GatewayConnection,
} from './gateway/gateway-client.js';
import { createProgress, type Progress } from './render/progress.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** The `-o/--output` flag, for commands a script may read. */
export const outputFlag = Flags.option({
  char: 'o',
  description: 'Output format. json and yaml are stable for scripts.',
  options: ['table', 'json', 'yaml'] as const,
  default: 'table' as const,
})();

/**
 * Base of every command: the global flags from REFERENCE.md and one error path. An
 * OpenShellError prints its message (what, which input, how to fix) and exits with the
 * catalogue's exit code; anything else is a bug and exits 1 with the message.
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    gateway: Flags.string({
      char: 'g',
      env: 'OPENSHELL_GATEWAY',
      description: 'Name of the gateway to talk to.',
      helpGroup: 'GLOBAL',
    }),
    'gateway-endpoint': Flags.string({
      description:
        'Gateway URL, e.g. https://127.0.0.1:17670; overrides the endpoint stored for --gateway (whose credentials are still used).',
      helpGroup: 'GLOBAL',
    }),
    verbose: Flags.boolean({
      char: 'v',
      description: 'Print more detail on stderr (repeat for more: -vv).',
      helpGroup: 'GLOBAL',
    }),
  };

  /** How many times -v was given (`-v -v` and `-vv` both count 2). */
  protected verbosity = 0;

  override async init(): Promise<void> {
    // oclif has no counting flag and refuses a boolean given twice, so repeated -v are
    // counted here and collapsed into one before parsing. Only tokens before `--` count:
    // everything after it belongs to the remote command.
    const end = this.argv.indexOf('--');
    const head = end === -1 ? this.argv : this.argv.slice(0, end);
    const tail = end === -1 ? [] : this.argv.slice(end);
    const kept: string[] = [];
    for (const token of head) {
      if (/^-v+$/.test(token)) this.verbosity += token.length - 1;
      else if (token === '--verbose') this.verbosity += 1;
      else kept.push(token);
    }
    if (this.verbosity > 0) kept.push('--verbose');
    this.argv = [...kept, ...tail];
    await super.init();
  }

  /** Progress on stderr (TTY only, or plain lines with -v). */
  protected createProgress(): Progress {
    return createProgress({ verbose: this.verbosity > 0 });
  }

  /** Connects to the gateway named by the global flags (auto-starting the local one). */
  protected async connect(
    flags: { gateway?: string | undefined; 'gateway-endpoint'?: string | undefined },
    options: Pick<ConnectOptions, 'autoStart' | 'progress'> = {},
  ): Promise<GatewayConnection> {
    return connectGateway({
      gateway: flags.gateway,
      endpoint: flags['gateway-endpoint'],
      progress: options.progress ?? this.createProgress(),
      ...(options.autoStart !== undefined ? { autoStart: options.autoStart } : {}),
    });
  }

  /** Writes data to stdout in the chosen format (table rendering is the caller's). */
  protected printStructured(format: Exclude<OutputFormat, 'table'>, value: unknown): void {
    if (format === 'json') process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else process.stdout.write(toYaml(value));
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    // oclif's own errors (flag parsing, ExitError from this.exit) carry their exit code.
    if (err instanceof Errors.ExitError || (err as { oclif?: unknown }).oclif !== undefined) {
      return super.catch(err);
    }
    const error = toOpenShellError(err);
    const internal = !isOpenShellError(err);
    process.stderr.write(`Error: ${error.message}\n`);
    if (internal && err.stack !== undefined) {
      process.stderr.write(`This is a bug in openshell; please report it with:\n${err.stack}\n`);
    }
    this.exit(error.info.exit);
  }
}
