import type { CompiledEndpoint } from './compile-policy.js';

/**
 * Endpoints of one port (or of all ports), indexed so a lookup touches only likely hits:
 * exact hosts in a map; wildcards by their literal label suffix — the labels after the
 * last one holding a `*` (`tenant.example.com` for `*.svc.*.tenant.example.com`).
 *
 * A lookup walks the request host once from the right, hashing as it goes, and at each
 * label boundary whose label count some wildcard suffix has, looks the running hash up:
 * no substring is allocated. Hash collisions only add candidates, and every candidate is
 * confirmed by its full host matcher, so they cost time, never correctness.
 */
export interface HostIndex {
  /** Exact hosts and IP literals. */
  readonly exact: ReadonlyMap<string, readonly CompiledEndpoint[]>;
  /** Wildcards keyed by `hashSuffix(literal suffix)`. */
  readonly bySuffix: ReadonlyMap<number, readonly CompiledEndpoint[]>;
  /** `suffixLabels[n] === 1` when some wildcard's literal suffix has n labels. */
  readonly suffixLabels: Uint8Array;
  /** Wildcards without a literal suffix (`foo.*`): scanned on every lookup. */
  readonly other: readonly CompiledEndpoint[];
}

export interface MutableHostIndex extends HostIndex {
  readonly exact: Map<string, CompiledEndpoint[]>;
  readonly bySuffix: Map<number, CompiledEndpoint[]>;
  readonly other: CompiledEndpoint[];
}

// A valid host has at most 127 labels (253 characters).
const MAX_LABELS = 128;
const NO_ENDPOINTS: readonly CompiledEndpoint[] = [];

/** An empty index. */
export function createHostIndex(): MutableHostIndex {
  return {
    exact: new Map(),
    bySuffix: new Map(),
    suffixLabels: new Uint8Array(MAX_LABELS),
    other: [],
  };
}

/** One step of the right-to-left hash; `hashSuffix` and the lookup walk must agree. */
function mix(hash: number, code: number): number {
  return (Math.imul(hash, 31) + code) | 0;
}

function hashSuffix(text: string): number {
  let hash = 0;
  for (let i = text.length - 1; i >= 0; i--) hash = mix(hash, text.charCodeAt(i));
  return hash;
}

function pushTo<K>(map: Map<K, CompiledEndpoint[]>, key: K, value: CompiledEndpoint): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** Adds an endpoint under its normalised host pattern. */
export function addToHostIndex(index: MutableHostIndex, entry: CompiledEndpoint): void {
  const { host } = entry;
  if (!host.includes('*')) {
    pushTo(index.exact, host, entry);
    return;
  }
  const labels = host.split('.');
  let first = labels.length;
  while (first > 0 && !(labels[first - 1] ?? '*').includes('*')) first--;
  const count = labels.length - first;
  if (count > 0 && count < MAX_LABELS) {
    pushTo(index.bySuffix, hashSuffix(labels.slice(first).join('.')), entry);
    index.suffixLabels[count] = 1;
  } else {
    index.other.push(entry);
  }
}

/** Endpoints whose host pattern matches a normalised, validated host, in policy order. */
export function findEndpoints(index: HostIndex, host: string): readonly CompiledEndpoint[] {
  const exact = index.exact.get(host) ?? NO_ENDPOINTS;
  let found: CompiledEndpoint[] | null = null;
  if (index.bySuffix.size > 0) {
    const { suffixLabels, bySuffix } = index;
    let hash = 0;
    let labels = 1;
    // Stops before index 0: a wildcard needs at least one label in front of its suffix.
    for (let i = host.length - 1; i > 0; i--) {
      const code = host.charCodeAt(i);
      if (code === 0x2e) {
        if (suffixLabels[labels] === 1) {
          const bucket = bySuffix.get(hash);
          if (bucket !== undefined) found = collectMatches(bucket, host, exact, found);
        }
        labels++;
        if (labels >= MAX_LABELS) break;
      }
      hash = mix(hash, code);
    }
  }
  if (index.other.length > 0) found = collectMatches(index.other, host, exact, found);
  if (found === null) return exact;
  return found.length === 1 ? found : found.sort(byOrdinal);
}

function collectMatches(
  candidates: readonly CompiledEndpoint[],
  host: string,
  exact: readonly CompiledEndpoint[],
  found: CompiledEndpoint[] | null,
): CompiledEndpoint[] | null {
  let out = found;
  for (const candidate of candidates) {
    if (!candidate.matchHost(host)) continue;
    if (out === null) out = exact.length === 0 ? [candidate] : [...exact, candidate];
    else out.push(candidate);
  }
  return out;
}

function byOrdinal(a: CompiledEndpoint, b: CompiledEndpoint): number {
  return a.ordinal - b.ordinal;
}
