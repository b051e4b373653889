import type { AttemptResult, ProveLayer } from './prove-types.js';

/** A concrete HTTP request the proxy attempts aim at. */
export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
  readonly method: string;
  readonly path: string;
  /** Why this target was chosen, for the detail line. */
  readonly why: string;
}

/** Everything the in-sandbox script and the judges need, decided by the CLI before the exec. */
export interface ProveContext {
  /** Random hex: names of markers and scratch files, so parallel runs never collide. */
  readonly tag: string;
  /** In-sandbox scratch directory (under /sandbox, where the probe is uploaded). */
  readonly scratch: string;
  /** In-sandbox path of the uploaded probe binary. */
  readonly probe: string;
  /** Basename of the marker the CLI planted in the host's /tmp. */
  readonly hostTmpMarker: string;
  /** Ports of the gateway on the host's loopback (gRPC API, HTTP health). */
  readonly gatewayPorts: readonly number[];
  /** The supervisor port the gateway most likely uses; the sandbox also looks at its own connections. */
  readonly supervisorPortHint: number;
  readonly pidsMax: number;
  readonly memoryMiB: number;
  /** A host no policy names, for the L4 attempt. */
  readonly deniedHost: string;
  /** A request the policy's L7 rules deny on an L7 endpoint; absent = the policy has none. */
  readonly l7?: ProxyTarget;
  readonly credential: {
    /** Environment variable holding the provider's placeholder inside the sandbox. */
    readonly envKey: string;
    /** The throwaway provider's dummy secret: it must never be visible inside. */
    readonly dummy: string;
    /** Where the placeholder is sent: a host the provider is not bound to. */
    readonly target: ProxyTarget;
  };
  /** Whether a path is in the policy's Landlock set (read_only or read_write). */
  readonly landlockAllows: (path: string) => boolean;
}

/** What the CLI observed on the host, before and after the exec. */
export interface HostFacts {
  /**
   * False when the gateway is remote: the CLI's host is then not the sandbox's host, and the
   * attempts that compare with it (/root, /tmp, process count) prove nothing.
   */
  readonly local: boolean;
  /** Entry names of the host's /root, or undefined when this process cannot list it. */
  readonly rootEntries: readonly string[] | undefined;
  readonly pidCount: number;
  /** True when a file the sandbox wrote to its /tmp appeared in the host's /tmp. */
  readonly tmpWriteLeaked: boolean;
}

/** One attempt's `@id key value` lines, as a key → value map (last value wins). */
export type AttemptRecord = ReadonlyMap<string, string>;

export interface Verdict {
  readonly result: AttemptResult;
  readonly layer: ProveLayer | null;
  readonly detail: string;
}

/** One escape attempt: the shell snippet that performs it and the judge that reads its output. */
export interface AttemptSpec {
  readonly id: string;
  readonly category: string;
  readonly attempt: string;
  /** sh code run inside the sandbox; reports with `r KEY VALUE` (the id is added). */
  script(ctx: ProveContext): string;
  judge(record: AttemptRecord, ctx: ProveContext, host: HostFacts): Verdict;
}

/** Quotes a value for sh (single quotes; an embedded quote closes, escapes and reopens). */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Verdict: the attempt failed, and its control (if any) passed. */
export const blocked = (layer: ProveLayer, detail: string): Verdict => ({
  result: 'blocked',
  layer,
  detail,
});
/** Verdict: the attempt got through. */
export const notBlocked = (layer: ProveLayer | null, detail: string): Verdict => ({
  result: 'not_blocked',
  layer,
  detail,
});
/** The proof is void: a positive control failed or the probe said something unexpected. */
export const voidProof = (layer: ProveLayer | null, detail: string): Verdict => ({
  result: 'error',
  layer,
  detail,
});
/** Verdict: nothing to attack under this policy or on this host. */
export const skipped = (detail: string): Verdict => ({ result: 'skipped', layer: null, detail });

/** The verdict of an attempt that compares with the CLI's host when that is not the sandbox's. */
export const REMOTE_HOST = skipped(
  'the gateway runs on another host: nothing here to compare with',
);

/** Reads a key, treating a missing one as the empty string (the script never ran that far). */
export function field(record: AttemptRecord, key: string): string {
  return record.get(key) ?? '';
}
