import { isOpenShellError } from '@openshell/policy-schema';
import { callUnary } from '../gateway/call-unary.js';
import type { GatewayConnection } from '../gateway/gateway-client.js';
import { askYesNo, isInteractive } from '../render/ask-yes-no.js';
import { detectAgentProvider } from './auto-providers.js';

/**
 * Decides whether to create a provider from the user's environment for a known agent
 * (REFERENCE.md "Providers") and returns the provider names to attach. Consent is explicit:
 * `--auto-providers` creates, `--no-auto-providers` skips, an interactive shell is asked,
 * and a script without either flag gets a note on stderr and nothing is created, since
 * copying a secret into the gateway is not something to do silently.
 */
export async function ensureAgentProviders(
  conn: Pick<GatewayConnection, 'client'>,
  argv: readonly string[],
  autoProviders: boolean | undefined,
  alreadyAttached: readonly string[],
): Promise<string[]> {
  const detected = detectAgentProvider(argv, process.env);
  if (detected === undefined || autoProviders === false) return [];
  if (alreadyAttached.includes(detected.type)) return [];
  const keys = Object.keys(detected.credentials).join(', ');
  let consent = autoProviders === true;
  if (autoProviders === undefined) {
    if (!isInteractive()) {
      process.stderr.write(
        `! ${detected.agent} can use ${keys} from your environment, but no provider was created. ` +
          `Pass --auto-providers to create provider "${detected.type}" from it (the value stays on the ` +
          `gateway; the sandbox sees a placeholder), or --no-auto-providers to silence this.\n`,
      );
      return [];
    }
    consent = await askYesNo(
      `Create provider "${detected.type}" from ${keys} so ${detected.agent} can authenticate (the sandbox only sees a placeholder)?`,
    );
  }
  if (!consent) return [];
  try {
    await callUnary(conn.client.createProvider.bind(conn.client), {
      name: detected.type,
      type: detected.type,
      credentials: { ...detected.credentials },
      allowedHosts: [],
    });
    process.stderr.write(`✓ Created provider ${detected.type} (${keys})\n`);
  } catch (err) {
    if (!isOpenShellError(err) || err.code !== 'ERR_PROVIDER_EXISTS') throw err;
    process.stderr.write(`✓ Using existing provider ${detected.type}\n`);
  }
  return [detected.type];
}
