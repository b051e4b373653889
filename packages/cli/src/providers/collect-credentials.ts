import { OpenShellError } from '@openshell/policy-schema';
import {
  checkProviderHost,
  findProviderType,
  isCredentialKey,
  PROVIDER_TYPES,
  type ProviderTypeInfo,
} from './provider-types.js';

export interface ProviderInput {
  readonly name: string;
  readonly type: string;
  readonly fromExisting: boolean;
  /** `--credential` values: `KEY=VALUE`, or `KEY` to read KEY from `env`. */
  readonly credentials: readonly string[];
  readonly allowedHosts: readonly string[];
}

export interface ProviderRequest {
  readonly name: string;
  readonly type: ProviderTypeInfo['type'];
  readonly credentials: Readonly<Record<string, string>>;
  readonly allowedHosts: readonly string[];
}

const TYPE_NAMES = Object.keys(PROVIDER_TYPES).join(', ');

/**
 * Turns `provider create` flags into the request's fields. Secret values come from the
 * command line or the CLI's own environment and go only into the returned map: no error
 * message ever quotes one, so a failing command cannot leak a key into a terminal or CI log.
 */
export function collectProviderRequest(
  input: ProviderInput,
  env: Readonly<Record<string, string | undefined>>,
): ProviderRequest {
  const info = findProviderType(input.type);
  if (info === undefined) {
    throw usage(`--type ${input.type}: unknown provider type — use one of ${TYPE_NAMES}`);
  }
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(input.name)) {
    throw usage(
      `--name ${input.name}: a provider name is 1-63 lower-case letters, digits and "-", starting and ending with a letter or digit`,
    );
  }
  for (const host of input.allowedHosts) {
    const problem = checkProviderHost(host);
    if (problem !== undefined) throw usage(`--allowed-host ${host}: ${problem}`);
  }
  if (info.type === 'generic' && input.allowedHosts.length === 0) {
    throw usage(
      '--type generic needs --allowed-host HOST (repeatable): the hosts its credentials may be sent to',
    );
  }
  if (input.fromExisting === input.credentials.length > 0) {
    throw usage('give exactly one of --from-existing or --credential KEY[=VALUE]');
  }
  const credentials = input.fromExisting
    ? readKnownVariables(info, env)
    : parseCredentialFlags(input.credentials, env);
  return { name: input.name, type: info.type, credentials, allowedHosts: input.allowedHosts };
}

function readKnownVariables(
  info: ProviderTypeInfo,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  if (info.credentialEnv.length === 0) {
    throw usage(
      `--from-existing: type ${info.type} has no known variables — pass --credential KEY[=VALUE]`,
    );
  }
  const found: Record<string, string> = {};
  for (const key of info.credentialEnv) {
    const value = env[key];
    if (value !== undefined && value !== '') found[key] = value;
  }
  if (Object.keys(found).length === 0) {
    throw usage(
      `--from-existing: none of ${info.credentialEnv.join(', ')} is set in this environment — export one, or pass --credential KEY=VALUE`,
    );
  }
  return found;
}

function parseCredentialFlags(
  flags: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const key = eq < 0 ? flag : flag.slice(0, eq);
    // Only the key is ever echoed: the part after `=` is the secret.
    if (!isCredentialKey(key)) {
      throw usage(
        `--credential ${key}${eq < 0 ? '' : '=…'}: KEY must be an environment variable name (letters, digits, "_", not starting with a digit)`,
      );
    }
    if (Object.hasOwn(out, key)) throw usage(`--credential ${key} is given twice`);
    const value = eq < 0 ? env[key] : flag.slice(eq + 1);
    if (value === undefined || value === '') {
      throw usage(
        eq < 0
          ? `--credential ${key}: the environment variable ${key} is not set — export it, or pass --credential ${key}=VALUE`
          : `--credential ${key}=: the value is empty`,
      );
    }
    out[key] = value;
  }
  return out;
}

function usage(message: string): OpenShellError {
  return new OpenShellError('ERR_USAGE', message);
}
