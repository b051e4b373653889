import { OpenShellError } from '@openshell/policy-schema';
import { LogLevel, LogSource, type LogFilter } from '@openshell/proto';
import { parseSince } from './parse-since.js';

export const LOG_SOURCE_OPTIONS = ['gateway', 'sandbox', 'proxy'] as const;
export const LOG_LEVEL_OPTIONS = ['debug', 'info', 'warn', 'error'] as const;

const SOURCES: Readonly<Record<(typeof LOG_SOURCE_OPTIONS)[number], LogSource>> = {
  gateway: LogSource.LOG_SOURCE_GATEWAY,
  sandbox: LogSource.LOG_SOURCE_SANDBOX,
  proxy: LogSource.LOG_SOURCE_PROXY,
};
const LEVELS: Readonly<Record<(typeof LOG_LEVEL_OPTIONS)[number], LogLevel>> = {
  debug: LogLevel.LOG_LEVEL_DEBUG,
  info: LogLevel.LOG_LEVEL_INFO,
  warn: LogLevel.LOG_LEVEL_WARN,
  error: LogLevel.LOG_LEVEL_ERROR,
};

export interface LogFlags {
  readonly sandbox?: string | undefined;
  readonly limit: number;
  readonly since?: string | undefined;
  readonly sources: readonly (typeof LOG_SOURCE_OPTIONS)[number][];
  readonly level?: (typeof LOG_LEVEL_OPTIONS)[number] | undefined;
}

/** The LogFilter for `logs` flags; filtering happens on the gateway, so `-n` counts matching entries. */
export function buildLogFilter(flags: LogFlags, now: number): LogFilter {
  if (!Number.isInteger(flags.limit) || flags.limit < 1 || flags.limit > 100_000) {
    throw new OpenShellError('ERR_USAGE', `-n ${flags.limit}: give a count from 1 to 100000`);
  }
  return {
    ...(flags.sandbox === undefined ? {} : { sandbox: flags.sandbox }),
    ...(flags.since === undefined ? {} : { sinceMs: parseSince(flags.since, now) }),
    sources: [...new Set(flags.sources)].map((s) => SOURCES[s]),
    ...(flags.level === undefined ? {} : { minLevel: LEVELS[flags.level] }),
    limit: flags.limit,
  };
}
