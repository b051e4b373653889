import { Args, Flags } from '@oclif/core';
import { OpenShellError, isOpenShellError } from '@openshell/policy-schema';
import type { LogEntry } from '@openshell/proto';
import { BaseCommand, outputFlag } from '../base-command.js';
import { callUnary } from '../gateway/call-unary.js';
import { resolveSandboxName, withSandboxSuggestion } from '../gateway/sandbox-ref.js';
import { LOG_LEVEL_OPTIONS, LOG_SOURCE_OPTIONS, buildLogFilter } from '../logs/build-log-filter.js';
import { followLogs } from '../logs/follow-logs.js';
import { formatLogEntry } from '../logs/format-log-entry.js';
import { logEntryToJson } from '../logs/log-entry-to-json.js';

export default class Logs extends BaseCommand {
  static override summary = 'Show decision (allow/deny/audit) and lifecycle events.';
  static override description =
    'One line per event: `TIME UTC  ACTION|LEVEL  SOURCE  SANDBOX  MESSAGE`. Proxy decisions show ' +
    'ALLOW, DENY or AUDIT, the calling binary, the destination, CONNECT or the HTTP method and ' +
    'path, the deciding policy and rule, and the reason; lifecycle events show their level. ' +
    'Without NAME: the last-used sandbox, or every sandbox when none was used yet or with --all. ' +
    '--tail keeps streaming new events until Ctrl-C (with -o json: one JSON object per line).';
  static override examples = [
    '<%= config.bin %> logs demo',
    '<%= config.bin %> logs demo --tail --source proxy',
    "<%= config.bin %> logs demo --since 10m --level warn | grep ' DENY '",
    '<%= config.bin %> logs --all -n 50 -o json',
  ];
  static override args = {
    name: Args.string({ description: 'Sandbox name (default: the last one used).' }),
  };
  static override flags = {
    lines: Flags.integer({
      char: 'n',
      description: 'How many of the newest events.',
      default: 200,
    }),
    tail: Flags.boolean({ description: 'Keep streaming new events until Ctrl-C.', default: false }),
    since: Flags.string({ description: 'Only events after this: 30s, 5m, 2h, 1d or an ISO time.' }),
    source: Flags.option({
      description: 'Only events from this component (repeatable).',
      options: LOG_SOURCE_OPTIONS,
      multiple: true,
      multipleNonGreedy: true,
    })(),
    level: Flags.option({
      description: 'Only events at this level or above.',
      options: LOG_LEVEL_OPTIONS,
    })(),
    all: Flags.boolean({
      description: 'Events of every sandbox and of the gateway itself.',
      default: false,
    }),
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Logs);
    if (flags.all && args.name !== undefined) {
      throw new OpenShellError('ERR_USAGE', `give a sandbox NAME or --all, not both`);
    }
    // Validate every flag before connecting, so a typo in --since costs no gateway start.
    const draft = buildLogFilter(
      { limit: flags.lines, since: flags.since, sources: flags.source ?? [], level: flags.level },
      Date.now(),
    );
    const conn = await this.connect(flags);
    try {
      const sandbox = flags.all ? undefined : await this.pickSandbox(conn, args.name);
      const filter = { ...draft, ...(sandbox === undefined ? {} : { sandbox }) };
      const color =
        flags.output === 'table' &&
        process.stdout.isTTY === true &&
        (process.env['NO_COLOR'] ?? '') === '';
      const print = (entry: LogEntry): void => {
        if (flags.output === 'json')
          process.stdout.write(`${JSON.stringify(logEntryToJson(entry))}\n`);
        else process.stdout.write(`${formatLogEntry(entry, { color })}\n`);
      };

      if (!flags.tail) {
        const fetch = () => callUnary(conn.client.getLogs.bind(conn.client), { filter });
        const { entries } =
          sandbox === undefined ? await fetch() : await withSandboxSuggestion(conn, sandbox, fetch);
        if (flags.output === 'table') entries.forEach(print);
        else this.printStructured(flags.output, entries.map(logEntryToJson));
        return;
      }
      if (flags.output === 'yaml')
        process.stderr.write('note: --tail prints JSON lines with -o json; -o yaml is ignored\n');
      const stop = new AbortController();
      const onSigint = (): void => stop.abort();
      // `logs --tail | head` closes the pipe; stop streaming instead of dying on EPIPE.
      const onStdoutError = (): void => stop.abort();
      process.once('SIGINT', onSigint);
      process.stdout.once('error', onStdoutError);
      try {
        const follow = () => followLogs(conn.client, filter, print, stop.signal);
        if (sandbox === undefined) await follow();
        else await withSandboxSuggestion(conn, sandbox, follow);
      } finally {
        process.off('SIGINT', onSigint);
        process.stdout.off('error', onStdoutError);
      }
    } finally {
      conn.close();
    }
  }

  /** NAME, else the last-used sandbox, else every sandbox (logs are useful without a name). */
  private async pickSandbox(
    conn: Parameters<typeof resolveSandboxName>[0],
    name: string | undefined,
  ): Promise<string | undefined> {
    try {
      return await resolveSandboxName(conn, name);
    } catch (err) {
      if (isOpenShellError(err) && err.code === 'ERR_USAGE' && name === undefined) return undefined;
      throw err;
    }
  }
}
