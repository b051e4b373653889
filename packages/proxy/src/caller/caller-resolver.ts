/** What the proxy knows about an accepted TCP connection, as seen from the proxy's side. */
export interface SocketInfo {
  /** The sandbox the source address belongs to. */
  readonly sandboxId: string;
  /** The client's address and port (the peer of the accepted socket). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The proxy's own address and port on that connection. */
  readonly localAddress: string;
  readonly localPort: number;
  /** A process inside the sandbox's network namespace, whose /proc/<pid>/net/tcp lists the client socket. */
  readonly netnsPid?: number;
}

/** The process that owns the client socket. */
export interface CallerIdentity {
  readonly pid: number;
  /** `/proc/<pid>/exe`, with a ` (deleted)` suffix removed. */
  readonly exe: string;
  /** Executables of the ancestors inside the caller's PID namespace, nearest first. */
  readonly ancestors: readonly string[];
}

/**
 * Finds the binary behind a connection. Async so that an implementation can ask the
 * sandbox-agent over its session instead of reading the host's /proc. `null` means
 * unknown or ambiguous; the proxy then denies (fail closed).
 */
export interface CallerResolver {
  resolve(info: SocketInfo): Promise<CallerIdentity | null>;
  /** Releases what the implementation holds (its native lookup, if any). */
  close?(): void;
}
