import type { PathSegment } from '../validate/issue.js';

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * Dotted path with indices, as shown in diagnostics: `network_policies.github.endpoints[0].host`.
 * Keys that would make the path ambiguous (dots, spaces, brackets) are quoted: `["my.rule"]`.
 */
export function formatPath(path: readonly PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
