import { OpenShellError } from '@openshell/policy-schema';

/**
 * `--cpu 1.5` → 1500 millicores. Parsed by the CLI (proto SandboxSpec) so the gateway never
 * sees unit strings; at most three decimals, since a millicore is the smallest unit.
 */
export function parseCpu(text: string): number {
  const m = /^(\d+)(?:\.(\d{1,3}))?$/.exec(text.trim());
  const millis = m === null ? NaN : Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0'));
  if (!Number.isSafeInteger(millis) || millis <= 0 || millis > 0xffffffff) {
    throw new OpenShellError(
      'ERR_USAGE',
      `--cpu ${text}: expected a positive number of CPUs with at most 3 decimals, e.g. --cpu 1.5 or --cpu 0.25`,
    );
  }
  return millis;
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  ki: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};

/** `--memory 512m` / `2g` / `1073741824` → bytes (binary units, like docker and cgroups). */
export function parseMemory(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m === null ? undefined : MEMORY_UNITS[(m[2] ?? '').toLowerCase()];
  const bytes = m === null || unit === undefined ? NaN : Math.floor(Number(m[1]) * unit);
  // Below 1 MiB no process starts; cgroups would OOM-kill the agent itself.
  if (!Number.isSafeInteger(bytes) || bytes < 1024 * 1024) {
    throw new OpenShellError(
      'ERR_USAGE',
      `--memory ${text}: expected a size of at least 1m, as bytes or with a unit (k, m, g, t), e.g. --memory 512m or --memory 2g`,
    );
  }
  return bytes;
}

/** `KEY=VALUE` pairs (`--env`, `--label`) → a map; `flag` names the option in errors. */
export function parseKeyValues(flag: string, items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = eq <= 0 ? '' : item.slice(0, eq);
    if (key === '' || /\s/.test(key)) {
      throw new OpenShellError(
        'ERR_USAGE',
        `${flag} ${item}: expected KEY=VALUE, e.g. ${flag} FOO=bar`,
      );
    }
    out[key] = item.slice(eq + 1);
  }
  return out;
}

/** `--selector k=v,k2=v2` → a label map. */
export function parseSelector(text: string): Record<string, string> {
  return parseKeyValues(
    '--selector',
    text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
}

/** `--upload SRC[:DST]` → source path and destination dir (default /sandbox). */
export function parseUploadSpec(text: string): { source: string; dest: string | undefined } {
  // Split at the last ':' followed by an absolute path, so `C:...`-free local paths with
  // colons elsewhere still work and the destination is always absolute.
  const idx = text.lastIndexOf(':/');
  const source = idx > 0 ? text.slice(0, idx) : text;
  const dest = idx > 0 ? text.slice(idx + 1) : undefined;
  if (source === '') {
    throw new OpenShellError(
      'ERR_USAGE',
      `--upload ${text}: expected SRC[:DST], e.g. --upload ./src:/sandbox/src`,
    );
  }
  return { source, dest };
}

/**
 * The command a user gave after `--`, token for token. oclif's non-strict parse regroups
 * repeated dash-tokens it does not know (`-c a -c b` comes back as `-c -c a b`), which turns
 * `codex exec -c k=v -c k2=v2` or `env -u A -u B` into a different command; the raw tokens
 * after the first `--` are what the user typed. Without `--`, oclif's `parsed` is all there is.
 */
export function readCommandAfterDashes(
  rawArgv: readonly string[],
  parsed: readonly unknown[],
): string[] {
  const end = rawArgv.indexOf('--');
  return end === -1 ? parsed.map(String) : rawArgv.slice(end + 1);
}
