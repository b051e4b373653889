import { FILESYSTEM_ATTEMPTS } from './attempts-filesystem.js';
import { NETWORK_ATTEMPTS } from './attempts-network.js';
import { PROCESS_ATTEMPTS } from './attempts-process.js';
import { PROXY_ATTEMPTS } from './attempts-proxy.js';
import { RESOURCE_ATTEMPTS } from './attempts-resources.js';
import {
  shellQuote,
  type AttemptRecord,
  type AttemptSpec,
  type ProveContext,
} from './attempt-spec.js';

/** Every attempt, in run order (the memory hog last: see attempts-resources.ts). */
export const PROVE_ATTEMPTS: readonly AttemptSpec[] = [
  ...FILESYSTEM_ATTEMPTS,
  ...PROCESS_ATTEMPTS,
  ...NETWORK_ATTEMPTS,
  ...PROXY_ATTEMPTS,
  ...RESOURCE_ATTEMPTS,
];

/**
 * One POSIX sh script that runs every attempt and prints `@ID KEY VALUE` lines. One Exec
 * instead of one per attempt: a session costs a gateway round trip and a launcher start,
 * most attempts a fork or two. Each attempt runs in its own subshell, so a crash or a
 * stray `cd` cannot spill into the next; `end` marks the attempts that ran to completion.
 * `r` only prints (no pipeline to flatten values): with about a hundred report lines,
 * three forks each cost more than many of the attempts; the parser joins continuation lines.
 */
export function buildProveScript(ctx: ProveContext, attempts = PROVE_ATTEMPTS): string {
  const preamble = `P=${shellQuote(ctx.probe)}; S=${shellQuote(ctx.scratch)}
PX=\${HTTPS_PROXY:-\${https_proxy:-\${HTTP_PROXY:-\${http_proxy:-}}}}
hp=\${PX#*://}; hp=\${hp%%/*}; PXA=\${hp%:*}; PXP=\${hp##*:}
r() { printf '@%s %s %s\\n' "$ID" "$1" "$2"; }
SUPS=$($P peers | while read -r a p; do [ "$a" = "$PXA" ] && [ "$p" != "$PXP" ] && echo "$p"; done | sort -u)
SUP=$(echo $SUPS ${String(ctx.supervisorPortHint)} | cut -d' ' -f1)`;
  const bodies = attempts.map(
    (spec) => `( ID=${shellQuote(spec.id)}\n${spec.script(ctx)}\nr end 1 )`,
  );
  return `${preamble}\n${bodies.join('\n')}\n`;
}

const MAX_VALUE = 400;

/**
 * Splits the script's stdout into one record per attempt id. A value that spanned several
 * lines (an error message) continues on lines without the `@` prefix; they are joined with
 * spaces and the value is cut at 400 characters.
 */
export function parseProveOutput(stdout: string): Map<string, AttemptRecord> {
  const records = new Map<string, Map<string, string>>();
  let current: { record: Map<string, string>; key: string } | undefined;
  for (const line of stdout.split('\n')) {
    const match = /^@(\S+) (\S+) ?(.*)$/.exec(line);
    if (match === null) {
      if (current !== undefined && line !== '') {
        const joined = `${current.record.get(current.key) ?? ''} ${line}`.trim();
        current.record.set(current.key, joined.slice(0, MAX_VALUE));
      }
      continue;
    }
    const [, id = '', key = '', value = ''] = match;
    const record = records.get(id) ?? new Map<string, string>();
    record.set(key, value.slice(0, MAX_VALUE));
    records.set(id, record);
    current = { record, key };
  }
  return records;
}
