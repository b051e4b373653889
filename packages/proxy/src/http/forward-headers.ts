/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never relayed;
 * `Proxy-*` headers are for this proxy. `Transfer-Encoding` is handled separately: Node
 * has already decoded the chunks, so framing is re-applied by Node on the other leg.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface ForwardHeaderOptions {
  /** Replace every Host header with this one (forward-form, RFC 9112 §3.2.2); null keeps them. */
  readonly host: string | null;
  /** Keep `Connection: upgrade` and `Upgrade` (for a WebSocket handshake). */
  readonly upgrade: boolean;
  /** Re-add `Transfer-Encoding: chunked` (the incoming message was chunked and Node decoded it). */
  readonly chunked: boolean;
}

function connectionTokens(rawHeaders: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() !== 'connection') continue;
    for (const t of (rawHeaders[i + 1] ?? '').split(',')) tokens.add(t.trim().toLowerCase());
  }
  return tokens;
}

/** Returns raw header pairs fit for the next hop. */
export function toForwardHeaders(
  rawHeaders: readonly string[],
  options: ForwardHeaderOptions,
): string[] {
  const named = connectionTokens(rawHeaders);
  const out: string[] = [];
  if (options.host !== null) out.push('Host', options.host);
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const lower = name.toLowerCase();
    if (lower === 'host' && options.host !== null) continue;
    if (options.upgrade && lower === 'upgrade') {
      out.push(name, rawHeaders[i + 1] ?? '');
      continue;
    }
    if (HOP_BY_HOP.has(lower) || (named.has(lower) && lower !== 'host')) continue;
    out.push(name, rawHeaders[i + 1] ?? '');
  }
  if (options.upgrade) out.push('Connection', 'Upgrade');
  if (options.chunked) out.push('Transfer-Encoding', 'chunked');
  return out;
}

/** True when the message was sent with chunked framing (its length is unknown up front). */
export function isChunked(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (
      rawHeaders[i]?.toLowerCase() === 'transfer-encoding' &&
      /chunked/i.test(rawHeaders[i + 1] ?? '')
    )
      return true;
  }
  return false;
}

/** First value of a header (case-insensitive), or undefined. */
export function headerValue(rawHeaders: readonly string[], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === wanted) return rawHeaders[i + 1];
  }
  return undefined;
}
