/**
 * Percent-decoding for request targets, strict where lenient decoders open bypasses:
 * - a `%` not followed by two hex digits is refused (servers disagree on what it means);
 * - decoded bytes ≥ 0x80 must form valid UTF-8 — overlong forms such as `%C0%AE` (an old
 *   IIS trick for `.`) are refused, because `TextDecoder` in fatal mode rejects them;
 * - decoded NUL is refused everywhere (C-string truncation upstream);
 * - in paths, other control characters are refused too; in query values they are kept
 *   (GraphQL GET requests carry newlines as `%0A`);
 * - in paths `%25` stays `%25` and an allowed `%2F` stays `%2F`, so the canonical path is
 *   unambiguous: a literal `%` in it always starts an escape, and `/` is always a separator.
 */

export type DecodeResult = { ok: true; value: string } | { ok: false; reason: string };

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

export interface DecodeOptions {
  /** `path`: keep `%25`/`%2F` encoded and refuse control characters. `query`: decode fully. */
  readonly mode: 'path' | 'query';
  /** Path mode only: keep `%2F` instead of refusing it. */
  readonly allowEncodedSlash: boolean;
}

/** Decodes `%XX` escapes in one path or query component (see the rules above). */
export function percentDecode(raw: string, options: DecodeOptions): DecodeResult {
  if (!raw.includes('%')) return { ok: true, value: raw };
  const isPath = options.mode === 'path';
  let out = '';
  let pending: number[] = [];
  const flush = (): string | null => {
    if (pending.length === 0) return null;
    try {
      out += UTF8.decode(Uint8Array.from(pending));
    } catch {
      // Invalid or overlong UTF-8: servers decode it inconsistently, so refuse it.
      return `invalid UTF-8 in percent-encoded bytes ${pending.map(toEscape).join('')}`;
    }
    pending = [];
    return null;
  };
  let i = 0;
  while (i < raw.length) {
    const next = raw.indexOf('%', i);
    if (next < 0 || next > i) {
      const problem = flush();
      if (problem !== null) return { ok: false, reason: problem };
      const end = next < 0 ? raw.length : next;
      out += raw.slice(i, end);
      i = end;
      continue;
    }
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) {
      return {
        ok: false,
        reason: `invalid percent-escape "${raw.slice(i, i + 3)}" at offset ${i}`,
      };
    }
    const byte = hi * 16 + lo;
    i += 3;
    if (byte >= 0x80) {
      pending.push(byte);
      continue;
    }
    const problem = flush();
    if (problem !== null) return { ok: false, reason: problem };
    if (byte === 0) return { ok: false, reason: 'encoded NUL (%00) is not allowed' };
    if (isPath && (byte < 0x20 || byte === 0x7f)) {
      return { ok: false, reason: `encoded control character ${toEscape(byte)} in path` };
    }
    if (isPath && byte === 0x2f) {
      if (!options.allowEncodedSlash) {
        return {
          ok: false,
          reason:
            'encoded slash (%2F) in path; set allow_encoded_slash: true on the endpoint if the API needs it',
        };
      }
      out += '%2F';
    } else if (isPath && byte === 0x25) {
      out += '%25';
    } else {
      out += String.fromCharCode(byte);
    }
  }
  const problem = flush();
  if (problem !== null) return { ok: false, reason: problem };
  return { ok: true, value: out };
}

function toEscape(byte: number): string {
  return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}
