import { compileHostPattern, type HostMatcher } from '@openshell/policy-schema';

/**
 * A provider's credentials and the hosts they may be sent to. Inside the sandbox the
 * variable holds `openshell:resolve:env:KEY`; the proxy swaps in `credentials[KEY]`.
 */
export interface CredentialBinding {
  readonly provider: string;
  /** Host patterns (same syntax as policy endpoint hosts) this provider's secrets may reach. */
  readonly hosts: readonly string[];
  /** KEY → real value. A key without value (e.g. after a restart) is known but unavailable. */
  readonly credentials: Readonly<Record<string, string | undefined>>;
}

/** What may be persisted: the binding without its secret values. */
export interface CredentialBindingShape {
  readonly provider: string;
  readonly hosts: readonly string[];
  readonly keys: readonly string[];
}

interface CompiledBinding {
  readonly provider: string;
  readonly matchers: readonly HostMatcher[];
  readonly values: ReadonlyMap<string, string | undefined>;
}

/** Outcome of resolving one placeholder key for one destination host. */
export type KeyResolution =
  | { readonly ok: true; readonly value: string }
  | {
      readonly ok: false;
      readonly error: 'credential_endpoint_mismatch' | 'credential_unavailable';
      readonly detail: string;
    };

export interface CompiledCredentials {
  /** True when some provider may send credentials to `host`: such connections must be inspected. */
  hasBindingFor(host: string): boolean;
  resolve(key: string, host: string): KeyResolution;
  /** The bindings without secret values, for persistence. */
  readonly shapes: readonly CredentialBindingShape[];
}

/** Compiles credential bindings; host patterns go through policy-schema's matcher. */
export function compileCredentialBindings(
  bindings: readonly CredentialBinding[],
): CompiledCredentials {
  const compiled: CompiledBinding[] = bindings.map((b) => ({
    provider: b.provider,
    matchers: b.hosts.map((h) => compileHostPattern(h)),
    values: new Map(Object.entries(b.credentials)),
  }));
  return {
    hasBindingFor(host) {
      return compiled.some((b) => b.matchers.some((m) => m(host)));
    },
    resolve(key, host) {
      const owners = compiled.filter((b) => b.values.has(key));
      if (owners.length === 0) {
        return {
          ok: false,
          error: 'credential_endpoint_mismatch',
          detail: `no provider attached to this sandbox supplies ${key}`,
        };
      }
      const owner = owners.find((b) => b.matchers.some((m) => m(host)));
      if (!owner) {
        return {
          ok: false,
          error: 'credential_endpoint_mismatch',
          detail: `credential ${key} of provider ${owners.map((o) => o.provider).join(', ')} may not be sent to ${host}`,
        };
      }
      const value = owner.values.get(key);
      if (value === undefined) {
        return {
          ok: false,
          error: 'credential_unavailable',
          detail: `credential ${key} of provider ${owner.provider} is not loaded in the proxy yet; retry shortly`,
        };
      }
      return { ok: true, value };
    },
    shapes: bindings.map((b) => ({
      provider: b.provider,
      hosts: [...b.hosts],
      keys: Object.keys(b.credentials),
    })),
  };
}

/** Rebuilds bindings from their persisted shape: hosts are enforced, values are unavailable. */
export function bindingsFromShapes(shapes: readonly CredentialBindingShape[]): CredentialBinding[] {
  return shapes.map((s) => ({
    provider: s.provider,
    hosts: s.hosts,
    credentials: Object.fromEntries(s.keys.map((k) => [k, undefined])),
  }));
}
