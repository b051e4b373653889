import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { OpenShellError } from '@openshell/policy-schema';
import type { ProcessSpec } from '@openshell/proto';

/**
 * File mode's stand-in for what the gateway would send: the main process and the policy.
 *
 * ```json
 * { "sandboxId": "local",
 *   "process": { "argv": ["sleep", "infinity"], "env": {}, "workdir": "", "tty": false },
 *   "policyFile": "policy.yaml" }
 * ```
 * `policy` (YAML text) or `policyFile` (relative to the spec file), exactly one.
 */
export interface SpecFile {
  readonly sandboxId: string;
  readonly process: ProcessSpec;
  readonly policyYaml: string;
}

const TOP_KEYS = new Set(['sandboxId', 'process', 'policy', 'policyFile']);
const PROCESS_KEYS = new Set(['argv', 'env', 'workdir', 'tty', 'size', 'user', 'group']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function invalid(file: string, message: string): OpenShellError {
  return new OpenShellError('ERR_USAGE', `--spec-file ${file}: ${message}`);
}

function rejectUnknown(
  file: string,
  where: string,
  value: Record<string, unknown>,
  known: ReadonlySet<string>,
): void {
  const unknown = Object.keys(value).filter((key) => !known.has(key));
  if (unknown.length > 0) throw invalid(file, `unknown key(s) ${unknown.join(', ')} in ${where}`);
}

function readString(file: string, where: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw invalid(file, `${where} must be a string`);
  return value;
}

function toProcessSpec(file: string, raw: unknown): ProcessSpec {
  if (!isRecord(raw)) throw invalid(file, '"process" must be an object');
  rejectUnknown(file, 'process', raw, PROCESS_KEYS);
  const { argv, env = {}, tty = false, size } = raw;
  if (!isStringArray(argv) || argv.length === 0) {
    throw invalid(file, 'process.argv must be a non-empty array of strings');
  }
  if (!isRecord(env) || !Object.values(env).every((v) => typeof v === 'string')) {
    throw invalid(file, 'process.env must map names to strings');
  }
  if (typeof tty !== 'boolean') throw invalid(file, 'process.tty must be true or false');
  let terminal: ProcessSpec['size'];
  if (size !== undefined) {
    if (!isRecord(size) || !Number.isInteger(size.rows) || !Number.isInteger(size.cols)) {
      throw invalid(file, 'process.size must be { "rows": N, "cols": N }');
    }
    terminal = { rows: Number(size.rows), cols: Number(size.cols) };
  }
  return {
    argv,
    env: env as Record<string, string>,
    workdir: readString(file, 'process.workdir', raw.workdir, ''),
    tty,
    ...(terminal === undefined ? {} : { size: terminal }),
    user: readString(file, 'process.user', raw.user, ''),
    group: readString(file, 'process.group', raw.group, ''),
  };
}

/** Reads and checks a spec file (unknown keys refused, like the policy schema). */
export function readSpecFile(file: string): SpecFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new OpenShellError(
      'ERR_INPUT_UNREADABLE',
      `--spec-file ${file}: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (!isRecord(raw)) throw invalid(file, 'must hold a JSON object');
  rejectUnknown(file, 'the top level', raw, TOP_KEYS);
  const { policy, policyFile } = raw;
  if ((policy === undefined) === (policyFile === undefined))
    throw invalid(file, 'give exactly one of "policy" and "policyFile"');
  let policyYaml: string;
  if (policyFile !== undefined) {
    if (typeof policyFile !== 'string') throw invalid(file, '"policyFile" must be a path');
    const path = resolve(dirname(file), policyFile);
    try {
      policyYaml = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new OpenShellError(
        'ERR_INPUT_UNREADABLE',
        `policy file ${path}: ${(cause as Error).message}`,
        { cause },
      );
    }
  } else {
    policyYaml = readString(file, '"policy"', policy, '');
  }
  return {
    sandboxId: readString(file, '"sandboxId"', raw.sandboxId, 'local'),
    process: toProcessSpec(file, raw.process),
    policyYaml,
  };
}
