import { Script, createContext, type Context } from 'node:vm';
import type { SensitivityAction, SensitivityRule } from '@openshell/policy-schema';

/** What the sensitivity rules say about one request's content. */
export type SensitivityVerdict =
  | { readonly action: 'pass' }
  | {
      readonly action: SensitivityAction;
      readonly rule: string;
      /** Which detector fired (`aws-access-key-id`, `pattern`, …); never the matched text. */
      readonly detector: string;
    };

export interface CompiledSensitivity {
  /** Checks the request's text; `refuse` wins over `keep_local`, then rule order. */
  scan(text: string): SensitivityVerdict;
}

/**
 * Built-in detectors. Each is a bounded, backtracking-free expression (no nested
 * quantifiers), so they run in the main realm at full speed on bodies of any size.
 */
const BUILTINS: Readonly<Record<'secrets' | 'private_keys', ReadonlyArray<[string, RegExp]>>> = {
  secrets: [
    ['aws-access-key-id', /\b(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA)[A-Z0-9]{16}\b/],
    ['aws-secret-access-key', /aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{40}/i],
    ['github-token', /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b/],
    ['github-fine-grained-token', /\bgithub_pat_[A-Za-z0-9_]{22,255}\b/],
    ['gitlab-token', /\bglpat-[A-Za-z0-9_-]{20,}/],
    ['sk-api-key', /\bsk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/],
    ['slack-token', /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
    ['stripe-key', /\b[rs]k_live_[A-Za-z0-9]{16,}/],
    ['google-api-key', /\bAIza[A-Za-z0-9_-]{35}/],
    ['jwt', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
    [
      'credential-assignment',
      /\b(?:password|passwd|pwd|secret|client_secret|api[_-]?key|access[_-]?token|auth[_-]?token|private[_-]?token)["']?\s*[:=]\s*["']?[^\s"',;]{6,}/i,
    ],
  ],
  private_keys: [['private-key-block', /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/]],
};

/**
 * Custom patterns come from policy authors and may backtrack catastrophically; one such
 * pattern on a large prompt would stall the proxy for every sandbox. They run in a vm
 * context whose `timeout` interrupts the regex engine, and a pattern that runs out of
 * time counts as a match (fail closed: the rule's action applies).
 */
const CUSTOM_SCAN = new Script(
  '(() => { const hits = []; for (let i = 0; i < patterns.length; i++) { if (patterns[i] === null || patterns[i].test(text)) hits.push(i); } return hits; })()',
);

function compileCustom(sources: readonly string[]): Context {
  const context = createContext({ sources, text: '' });
  // Compiled inside the context so the RegExp objects belong to it; a source that fails to
  // compile (policy-schema rejects those, so only a corrupted policy) becomes null = match.
  new Script(
    "patterns = sources.map((s) => { try { return new RegExp(s, 'u'); } catch { return null; } })",
  ).runInContext(context);
  return context;
}

/**
 * Compiles a sandbox's sensitivity rules.
 *
 * @example
 * const rules = compileSensitivity(policy.inference.sensitivity, 200);
 * rules.scan(textOf(body)); // { action: 'keep_local', rule: 'secrets', detector: 'github-token' }
 */
export function compileSensitivity(
  rules: readonly SensitivityRule[],
  timeoutMs: number,
): CompiledSensitivity {
  const custom = rules.filter((r) => r.builtin === undefined && r.pattern !== undefined);
  const context = custom.length > 0 ? compileCustom(custom.map((r) => r.pattern ?? '')) : null;
  return {
    scan(text) {
      const hits = new Map<SensitivityRule, string>();
      for (const rule of rules) {
        if (rule.builtin === undefined) continue;
        const found = BUILTINS[rule.builtin].find(([, re]) => re.test(text));
        if (found) hits.set(rule, found[0]);
      }
      if (context) {
        context['text'] = text;
        try {
          const matched = CUSTOM_SCAN.runInContext(context, { timeout: timeoutMs }) as number[];
          for (const i of matched) {
            const rule = custom[i];
            if (rule) hits.set(rule, 'pattern');
          }
        } catch {
          // Timed out (or the context broke): every custom rule counts as matched.
          for (const rule of custom) hits.set(rule, 'pattern-timeout');
        } finally {
          context['text'] = '';
        }
      }
      // refuse wins over keep_local; among equals the first in policy order is named, so the
      // same request always reports the same rule.
      for (const action of ['refuse', 'keep_local'] as const) {
        for (const rule of rules) {
          const detector = hits.get(rule);
          if (detector !== undefined && rule.action === action)
            return { action, rule: rule.name, detector };
        }
      }
      return { action: 'pass' };
    },
  };
}

/**
 * The text the rules see: every string (keys and values) of the JSON body, decoded and
 * joined by newlines. Decoding first means `\u0041KIA…` or `\n`-escaped PEM lines are
 * judged as the model will read them, not as their JSON escapes.
 */
export function toScannableText(body: unknown): string {
  const out: string[] = [];
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) for (const v of value) stack.push(v);
    else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        out.push(k);
        stack.push(v);
      }
    }
  }
  return out.join('\n');
}
