/**
 * The closest allowed key to a misspelt one (`read_onyl` → `read_only`), or undefined when
 * nothing is close. Case and `-`/`_` confusions count as close: they are the usual typos.
 */
export function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  const normalised = normaliseKey(key);
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1;
  for (const candidate of allowed) {
    const distance = editDistance(normalised, normaliseKey(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function normaliseKey(key: string): string {
  return key.toLowerCase().replaceAll('-', '_');
}

/** Levenshtein distance; keys are short, so the O(n·m) table is cheap. */
function editDistance(a: string, b: string): number {
  // Inputs come from a policy file; cap them so a 1 MB key cannot cost seconds.
  if (a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? Number.POSITIVE_INFINITY;
}
