import { OpenShellError, hashPolicy, type Policy } from '@openshell/policy-schema';
import type {
  CredentialBinding as WireCredentialBinding,
  SandboxConfig as WireSandboxConfig,
} from '@openshell/proto';
import type { CredentialBinding } from '../credentials/credential-bindings.js';
import { loadPolicy } from '../sandbox/load-policy.js';
import type { SandboxConfig } from '../sandbox/sandbox-registry.js';

/** A gateway SandboxConfig checked and translated for `proxy.setSandbox`. */
export interface DecodedSandbox {
  readonly config: SandboxConfig;
  readonly name: string;
  /** The validated policy, kept to enrich decision events (policy display names, enforcement). */
  readonly policy: Policy;
  /** hashPolicy of the validated policy: what the ack reports. */
  readonly hash: string;
}

/**
 * The wire carries one binding per environment key; the proxy groups keys by provider (and
 * host list), since a provider's keys share where they may be sent. An empty value means the
 * gateway has no secret for that key: it stays known but unavailable (503, never a guess).
 */
function toCredentialBindings(wire: readonly WireCredentialBinding[]): CredentialBinding[] {
  const groups = new Map<
    string,
    { provider: string; hosts: string[]; credentials: Record<string, string | undefined> }
  >();
  for (const b of wire) {
    const provider = b.providerName || b.providerId;
    const key = JSON.stringify([b.providerId, provider, b.allowedHosts]);
    let group = groups.get(key);
    if (!group) {
      group = { provider, hosts: [...b.allowedHosts], credentials: {} };
      groups.set(key, group);
    }
    group.credentials[b.envKey] = b.value === '' ? undefined : b.value;
  }
  return [...groups.values()];
}

/**
 * Validates a pushed sandbox: the policy must load (policy-schema is the only validator) and,
 * when the gateway sent a hash, hash to it. Throws OpenShellError naming the sandbox; the
 * caller nacks and the sandbox's previous state stays in force.
 */
export function toSandboxConfig(wire: WireSandboxConfig): DecodedSandbox {
  const id = wire.sandboxId;
  if (!id)
    throw new OpenShellError('ERR_USAGE', 'sandbox config without a sandbox_id; not applied');
  if (wire.policyJson === '') {
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `sandbox ${id}: policy_json is empty; the gateway must send the normalised policy`,
    );
  }
  if (wire.netnsPid === 0) {
    throw new OpenShellError(
      'ERR_USAGE',
      `sandbox ${id}: netns_pid 0 is not a process; leave it unset when no pid is known`,
    );
  }
  const policy = loadPolicy(id, wire.policyJson);
  const hash = hashPolicy(policy);
  // Same rule as the sandbox-agent: a mismatch means the body was altered or the two sides
  // canonicalise differently, and either way this is not the revision the gateway recorded.
  if (wire.policyHash !== '' && wire.policyHash !== hash) {
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `sandbox ${id}: policy_hash ${wire.policyHash} does not match the pushed policy (${hash}); the push was corrupted or canonicalised differently`,
    );
  }
  return {
    name: wire.sandboxName,
    policy,
    hash,
    config: {
      id,
      sourceAddresses: wire.sourceAddresses,
      policy,
      version: wire.policyVersion,
      credentialBindings: toCredentialBindings(wire.credentials),
      ...(wire.netnsPid === undefined ? {} : { netnsPid: wire.netnsPid }),
    },
  };
}
