import { OpenShellError, isOpenShellError } from '@openshell/policy-schema';
import { readLastSandbox, writeLastSandbox } from '../config/config-dir.js';
import { callUnary } from './call-unary.js';
import type { GatewayConnection } from './gateway-client.js';
import { findClosest } from './levenshtein.js';

type SandboxConnection = Pick<GatewayConnection, 'client' | 'name' | 'configDir'>;

/**
 * The sandbox a command acts on: the name given, else the last-used sandbox on this gateway
 * (REFERENCE.md: commands fall back to it when the name is omitted).
 */
export async function resolveSandboxName(
  conn: SandboxConnection,
  nameArg: string | undefined,
): Promise<string> {
  if (nameArg !== undefined && nameArg !== '') return nameArg;
  const last = await readLastSandbox(conn.name, conn.configDir);
  if (last !== undefined) return last;
  throw new OpenShellError(
    'ERR_USAGE',
    "no sandbox name given and no sandbox used before on this gateway; pass a name (see 'openshell sandbox list') " +
      "or create one with 'openshell sandbox create'",
  );
}

/** Records `name` as the last-used sandbox for commands that omit the name. */
export async function rememberSandbox(conn: SandboxConnection, name: string): Promise<void> {
  await writeLastSandbox(conn.name, name, conn.configDir);
}

/**
 * ERR_SANDBOX_NOT_FOUND for `name`, suggesting the closest existing sandbox name when one is
 * a likely typo (`Sandbox "dmeo" not found. Did you mean "demo"?`).
 */
export async function notFoundWithSuggestion(
  conn: SandboxConnection,
  name: string,
): Promise<OpenShellError> {
  let names: string[] = [];
  try {
    const { sandboxes } = await callUnary(conn.client.listSandboxes.bind(conn.client), {
      labelSelector: {},
    });
    names = sandboxes.map((s) => s.name);
  } catch {
    // The suggestion is a courtesy; the not-found error stands without it.
  }
  const closest = findClosest(name, names);
  const hint =
    closest !== undefined
      ? ` Did you mean "${closest}"?`
      : names.length === 0
        ? " There are no sandboxes; create one with 'openshell sandbox create'."
        : " Run 'openshell sandbox list' to see them.";
  return new OpenShellError('ERR_SANDBOX_NOT_FOUND', `Sandbox "${name}" not found.${hint}`, {
    details: { sandbox: name, ...(closest !== undefined ? { suggestion: closest } : {}) },
  });
}

/**
 * Runs `action`; an ERR_SANDBOX_NOT_FOUND from it is replaced by notFoundWithSuggestion.
 *
 * @example
 * const res = await withSandboxSuggestion(conn, name, () => callUnary(get, { sandbox: name }));
 */
export async function withSandboxSuggestion<T>(
  conn: SandboxConnection,
  name: string,
  action: () => Promise<T>,
): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (isOpenShellError(err) && err.code === 'ERR_SANDBOX_NOT_FOUND') {
      throw await notFoundWithSuggestion(conn, name);
    }
    throw err;
  }
}
