import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { OpenShellError } from '@openshell/policy-schema';

/**
 * The CLI's config dir (gateway-wire.md "CLI config dir"): which gateway is active, each
 * gateway's endpoint and mTLS material, and the last-used sandbox. Keys are 0600 and dirs
 * 0700 because the client key is a bearer credential for the whole gateway.
 */

export const DEFAULT_GATEWAY_NAME = 'local';

export interface GatewayMetadata {
  readonly name: string;
  /** e.g. `https://127.0.0.1:17670`. */
  readonly endpoint: string;
  /** State dir of a local daemon this CLI started (absent for remote gateways). */
  readonly stateDir?: string;
}

export interface GatewayCredentials {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** `$OPENSHELL_CONFIG_DIR`, else `~/.config/openshell`. */
export function resolveConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['OPENSHELL_CONFIG_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return join(homedir(), '.config', 'openshell');
}

/** Directory holding one gateway's metadata and credentials. */
export function gatewayConfigDir(name: string, configDir: string = resolveConfigDir()): string {
  // The name becomes a path component; refuse anything that could climb out of gateways/.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) {
    throw new OpenShellError(
      'ERR_USAGE',
      `gateway name "${name}" is invalid: use letters, digits, '.', '_' or '-' (max 63 characters)`,
    );
  }
  return join(configDir, 'gateways', name);
}

async function readOptionalText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OpenShellError('ERR_INPUT_UNREADABLE', `cannot read ${file}: ${String(cause)}`, {
      cause,
    });
  }
}

/** Writes via a temp file + rename so a crash never leaves a half-written key or metadata. */
async function writeFileAtomic(file: string, data: string | Buffer, mode: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  // writeFile's mode only applies on creation; chmod covers a leftover temp file.
  await chmod(tmp, mode);
  await rename(tmp, file);
}

/** Name of the default gateway (`active_gateway`), `local` when unset. */
export async function readActiveGateway(configDir: string = resolveConfigDir()): Promise<string> {
  const text = await readOptionalText(join(configDir, 'active_gateway'));
  const name = text?.trim();
  return name === undefined || name === '' ? DEFAULT_GATEWAY_NAME : name;
}

/** Sets the default gateway. */
export async function writeActiveGateway(
  name: string,
  configDir: string = resolveConfigDir(),
): Promise<void> {
  await writeFileAtomic(join(configDir, 'active_gateway'), `${name}\n`, 0o600);
}

/** A gateway's metadata.json, or undefined when the gateway was never configured. */
export async function readGatewayMetadata(
  name: string,
  configDir: string = resolveConfigDir(),
): Promise<GatewayMetadata | undefined> {
  const file = join(gatewayConfigDir(name, configDir), 'metadata.json');
  const text = await readOptionalText(file);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new OpenShellError(
      'ERR_INPUT_UNREADABLE',
      `${file} is not valid JSON; fix or delete it (openshell gateway start rewrites it)`,
      { cause },
    );
  }
  const meta = parsed as Partial<GatewayMetadata> | null;
  if (meta === null || typeof meta !== 'object' || typeof meta.endpoint !== 'string') {
    throw new OpenShellError(
      'ERR_INPUT_UNREADABLE',
      `${file} has no "endpoint"; fix or delete it (openshell gateway start rewrites it)`,
    );
  }
  return {
    name,
    endpoint: meta.endpoint,
    ...(typeof meta.stateDir === 'string' ? { stateDir: meta.stateDir } : {}),
  };
}

/** Writes a gateway's metadata.json. */
export async function writeGatewayMetadata(
  meta: GatewayMetadata,
  configDir: string = resolveConfigDir(),
): Promise<void> {
  const file = join(gatewayConfigDir(meta.name, configDir), 'metadata.json');
  await writeFileAtomic(file, `${JSON.stringify(meta, null, 2)}\n`, 0o600);
}

/** The gateway's mTLS material, or undefined when any of the three files is missing. */
export async function readGatewayCredentials(
  name: string,
  configDir: string = resolveConfigDir(),
): Promise<GatewayCredentials | undefined> {
  const dir = gatewayConfigDir(name, configDir);
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'client.pem', 'client.key'].map((f) => readOptionalText(join(dir, f))),
  );
  if (ca === undefined || cert === undefined || key === undefined) return undefined;
  return { ca: Buffer.from(ca), cert: Buffer.from(cert), key: Buffer.from(key) };
}

/** Stores the gateway's mTLS material (every file 0600, the dir 0700). */
export async function writeGatewayCredentials(
  name: string,
  creds: GatewayCredentials,
  configDir: string = resolveConfigDir(),
): Promise<void> {
  const dir = gatewayConfigDir(name, configDir);
  await writeFileAtomic(join(dir, 'ca.pem'), creds.ca, 0o600);
  await writeFileAtomic(join(dir, 'client.pem'), creds.cert, 0o600);
  await writeFileAtomic(join(dir, 'client.key'), creds.key, 0o600);
}

/** The last sandbox a command on this gateway used, if any. */
export async function readLastSandbox(
  name: string,
  configDir: string = resolveConfigDir(),
): Promise<string | undefined> {
  const text = await readOptionalText(join(gatewayConfigDir(name, configDir), 'last_sandbox'));
  const sandbox = text?.trim();
  return sandbox === undefined || sandbox === '' ? undefined : sandbox;
}

/** Records the last-used sandbox for a gateway. */
export async function writeLastSandbox(
  name: string,
  sandbox: string,
  configDir: string = resolveConfigDir(),
): Promise<void> {
  await writeFileAtomic(
    join(gatewayConfigDir(name, configDir), 'last_sandbox'),
    `${sandbox}\n`,
    0o600,
  );
}
