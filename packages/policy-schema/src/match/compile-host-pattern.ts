import { OP_GLOBSTAR, OP_LITERAL, OP_ONE, OP_STAR, type GlobInstruction } from './glob-program.js';
import { toGlobMatcher } from './compile-glob.js';
import { isValidHost, normalizeHost } from './normalize-host.js';

/** A compiled host pattern; the argument is a request host (normalised inside). */
export type HostMatcher = (host: string) => boolean;

const DOT = 0x2e;

function push(out: GlobInstruction[], op: GlobInstruction['op'], code = -1): void {
  out.push({ op, code, charClass: null, skipTo: -1 });
}

/**
 * Host wildcards (REFERENCE.md "Policy file", label separator `.`):
 * - `*` as a whole label = exactly one label; `**` as a whole label = one or more labels;
 * - inside a label, `*` = a non-empty run within that label (`*-aiplatform.googleapis.com`)
 *   and `**` = a non-empty run that may span labels;
 * - every other character is literal (`?` and `[` have no meaning in host names).
 * Which positions may hold a wildcard is the validator's job; whatever the pattern, the
 * matcher stays linear in the host's length.
 */
function toHostInstructions(pattern: string): GlobInstruction[] {
  const out: GlobInstruction[] = [];
  const labels = pattern.split('.');
  labels.forEach((label, index) => {
    if (index > 0) push(out, OP_LITERAL, DOT);
    let i = 0;
    while (i < label.length) {
      const c = label.charCodeAt(i);
      if (c !== 0x2a) {
        push(out, OP_LITERAL, c);
        i++;
        continue;
      }
      let end = i;
      while (label.charCodeAt(end) === 0x2a) end++;
      // Non-empty: one character that is not a dot, then the run.
      push(out, OP_ONE);
      push(out, end - i === 1 ? OP_STAR : OP_GLOBSTAR);
      i = end;
    }
  });
  return out;
}

/**
 * Compiles an endpoint host (exact name, IP literal or wildcard) into a matcher for
 * request hosts. Case, one trailing dot and IPv6 brackets/spelling are normalised on both
 * sides; an invalid request host (empty labels, spaces, zone ids) never matches.
 * @example compileHostPattern('*.github.com')('API.GitHub.com.') // true
 */
export function compileHostPattern(pattern: string): HostMatcher {
  const normalised = normalizeHost(pattern);
  if (!normalised.includes('*')) {
    return function matchExactHost(host) {
      return normalizeHost(host) === normalised;
    };
  }
  const matchNormalised = compileNormalisedHostPattern(normalised);
  return function matchHostPattern(host) {
    const h = normalizeHost(host);
    return isValidHost(h) && matchNormalised(h);
  };
}

/**
 * The same matcher for hosts already normalised and validated (the decision hot path
 * normalises once per request, not once per endpoint).
 */
export function compileNormalisedHostPattern(normalisedPattern: string): HostMatcher {
  const p = normalisedPattern;
  if (!p.includes('*')) {
    return function matchExactHost(host) {
      return host === p;
    };
  }
  // Fast paths for the two common shapes; both need at least one label before the suffix.
  const suffix = p.slice(p.indexOf('.'));
  if (!suffix.includes('*')) {
    if (p.startsWith('*.')) {
      return function matchOneLabel(host) {
        const cut = host.length - suffix.length;
        return cut > 0 && host.endsWith(suffix) && host.lastIndexOf('.', cut - 1) < 0;
      };
    }
    if (p.startsWith('**.')) {
      return function matchSomeLabels(host) {
        return host.length > suffix.length && host.endsWith(suffix);
      };
    }
  }
  return toGlobMatcher(toHostInstructions(p), DOT);
}
