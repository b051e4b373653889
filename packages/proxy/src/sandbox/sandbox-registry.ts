import {
  OpenShellError,
  compilePolicy,
  type CompiledPolicy,
  type Policy,
} from '@openshell/policy-schema';
import {
  compileCredentialBindings,
  type CompiledCredentials,
  type CredentialBinding,
} from '../credentials/credential-bindings.js';
import { loadPolicy } from './load-policy.js';
import { createSourceTable } from './source-table.js';

/** What the control plane sends for one sandbox (`proxy.setSandbox`). */
export interface SandboxConfig {
  readonly id: string;
  /** Addresses (or CIDRs) the sandbox's connections come from. */
  readonly sourceAddresses: readonly string[];
  /** A validated Policy object, or policy text (canonical JSON or YAML) to parse here. */
  readonly policy: Policy | string;
  /** Monotonic revision from the gateway; an older one than the active is refused. */
  readonly version: number;
  readonly credentialBindings?: readonly CredentialBinding[];
  /** A process in the sandbox's network namespace (for finding client sockets). */
  readonly netnsPid?: number;
}

/** The active, compiled state of one sandbox. Replaced whole on every apply. */
export interface SandboxState {
  readonly id: string;
  readonly version: number;
  readonly sourceAddresses: readonly string[];
  readonly policy: Policy;
  readonly compiled: CompiledPolicy;
  readonly credentials: CompiledCredentials;
  readonly netnsPid?: number;
}

export interface SandboxRegistry {
  /** Validates, compiles and swaps in a sandbox's config; throws OpenShellError and keeps the old one on failure. */
  apply(config: SandboxConfig): SandboxState;
  remove(id: string): SandboxState | undefined;
  get(id: string): SandboxState | undefined;
  forAddress(address: string): SandboxState | undefined;
  all(): readonly SandboxState[];
}

function compileFor(id: string, policy: Policy): CompiledPolicy {
  try {
    return compilePolicy(policy);
  } catch (error) {
    throw new OpenShellError(
      'ERR_POLICY_INVALID',
      `policy for sandbox ${id} could not be compiled (${String(error)}); send a policy validated by policy-schema`,
      { cause: error },
    );
  }
}

/** Holds every sandbox's compiled policy and its source addresses. */
export function createSandboxRegistry(): SandboxRegistry {
  const sandboxes = new Map<string, SandboxState>();
  const sources = createSourceTable();
  return {
    apply(config) {
      if (!config.id)
        throw new OpenShellError('ERR_USAGE', 'setSandbox needs a non-empty sandbox id');
      if (!Number.isSafeInteger(config.version) || config.version < 0) {
        throw new OpenShellError(
          'ERR_USAGE',
          `sandbox ${config.id}: version must be a non-negative integer`,
        );
      }
      const previous = sandboxes.get(config.id);
      if (previous && config.version < previous.version) {
        throw new OpenShellError(
          'ERR_CONFLICT',
          `sandbox ${config.id}: version ${config.version} is older than the active version ${previous.version}; not applied`,
        );
      }
      const policy = loadPolicy(config.id, config.policy);
      const compiled = compileFor(config.id, policy);
      const credentials = compileCredentialBindings(config.credentialBindings ?? []);
      // Last: assign throws on a clash and must leave both tables as they were.
      sources.assign(config.id, config.sourceAddresses);
      const state: SandboxState = {
        id: config.id,
        version: config.version,
        sourceAddresses: [...config.sourceAddresses],
        policy,
        compiled,
        credentials,
        ...(config.netnsPid === undefined ? {} : { netnsPid: config.netnsPid }),
      };
      sandboxes.set(config.id, state);
      return state;
    },
    remove(id) {
      const state = sandboxes.get(id);
      sandboxes.delete(id);
      sources.remove(id);
      return state;
    },
    get(id) {
      return sandboxes.get(id);
    },
    forAddress(address) {
      const id = sources.lookup(address);
      return id === undefined ? undefined : sandboxes.get(id);
    },
    all() {
      return [...sandboxes.values()];
    },
  };
}
