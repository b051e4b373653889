import {
  blocked,
  field,
  notBlocked,
  shellQuote,
  skipped,
  voidProof,
  type AttemptRecord,
  type AttemptSpec,
  type ProxyTarget,
  type Verdict,
} from './attempt-spec.js';
import type { ProveLayer } from './prove-types.js';

/** The `error` values of the proxy's denial bodies (REFERENCE.md "Denials seen by the agent"). */
function layerOfDenial(error: string, namesRule: boolean): ProveLayer | undefined {
  switch (error) {
    case 'policy_denied':
      // L7 denials name the rule and the request; L4 ones only the host and port.
      return namesRule ? 'proxy L7' : 'proxy L4 policy';
    case 'ssrf_denied':
      return 'proxy SSRF';
    case 'credential_endpoint_mismatch':
      return 'proxy credentials';
    default:
      return undefined;
  }
}

/**
 * A 403 with one of the proxy's denial bodies is blocked, at the layer the body names. Any
 * other HTTP answer means the proxy let the request go (a 502 "upstream failed" means it
 * dialled the target); no answer at all voids the proof.
 */
function judgeProxy(rec: AttemptRecord, key: string, expected: ProveLayer): Verdict {
  const code = field(rec, `${key}.code`);
  const error = field(rec, `${key}.error`);
  if (code === '' || code === '000') {
    return voidProof(
      expected,
      `no HTTP answer through the proxy: ${field(rec, `${key}.err`) || 'curl failed'}`,
    );
  }
  const layer = layerOfDenial(error, Number(field(rec, `${key}.rule`)) > 0);
  if (code === '403' && layer !== undefined) {
    // With no rule for the target, L4 answers before the deeper check this attempt aims at.
    const earlier =
      layer === 'proxy L4 policy' && expected !== layer
        ? ` (no rule allows it, so L4 refused it before the ${expected.replace('proxy ', '')} check)`
        : '';
    return blocked(layer, `HTTP 403 ${error}${earlier}`);
  }
  const what = error === '' ? '' : ` ${error}`;
  return notBlocked(expected, `HTTP ${code}${what}: the proxy let the request through`);
}

/**
 * sh: one request through the proxy; reports KEY.code, KEY.error (the `error` field of a
 * JSON body), KEY.rule (1 when the body names a rule: an L7 denial) and KEY.err (curl's
 * complaint). Only those fields leave the sandbox, never the body itself: a request that
 * got through may have fetched something the proof must not carry out.
 * `urlWord` is already a shell word (quoted, or expanding a script variable).
 */
function curlThroughProxy(key: string, urlWord: string, extra = ''): string {
  const body = `"$S/body-${key}"`;
  const err = `"$S/err-${key}"`;
  return `code=$(curl -sS --path-as-is --max-time 8 -x "$PX" --noproxy '' -o ${body} -w '%{http_code}' ${extra} ${urlWord} 2>${err})
r ${key}.code "$code"; r ${key}.error "$(sed -n 's/.*"error" *: *"\\([a-z_]*\\)".*/\\1/p' ${body} 2>/dev/null | head -n 1)"
r ${key}.rule "$(grep -c '"rule" *:' ${body} 2>/dev/null)"; r ${key}.err "$(head -c 200 ${err})"; rm -f ${body} ${err}`;
}

const toUrl = (scheme: 'http' | 'https', t: ProxyTarget): string =>
  shellQuote(`${scheme}://${t.host}:${String(t.port)}${t.path}`);

const l4: AttemptSpec = {
  id: 'proxy-l4',
  category: 'proxy',
  attempt: 'reach a host the policy does not list, through the proxy',
  script: (ctx) => curlThroughProxy('req', shellQuote(`http://${ctx.deniedHost}/`)),
  judge: (rec) => judgeProxy(rec, 'req', 'proxy L4 policy'),
};

function ssrf(id: string, attempt: string, url: (gatewayPort: number) => string): AttemptSpec {
  return {
    id,
    category: 'proxy',
    attempt,
    script: (ctx) => curlThroughProxy('req', shellQuote(url(ctx.gatewayPorts[0] ?? 17670))),
    judge: (rec) => judgeProxy(rec, 'req', 'proxy SSRF'),
  };
}

const ssrfPrivate: AttemptSpec = {
  id: 'proxy-ssrf-private',
  category: 'proxy',
  attempt: "reach a private address (the gateway's supervisor port) through the proxy",
  // The service address is private and really listens on the host: a proxy that let this
  // through would relay the sandbox to the supervisor port nftables keeps it away from.
  script: () => curlThroughProxy('req', '"http://$PXA:$SUP/"'),
  judge: (rec) => judgeProxy(rec, 'req', 'proxy SSRF'),
};

const l7: AttemptSpec = {
  id: 'proxy-l7',
  category: 'proxy',
  attempt: 'a path trick the L7 rules must refuse',
  script: (ctx) =>
    ctx.l7 === undefined
      ? 'r none 1'
      : curlThroughProxy('req', toUrl('https', ctx.l7), `-X ${ctx.l7.method}`),
  judge(rec, ctx) {
    if (ctx.l7 === undefined) return skipped('no L7 rules in policy');
    const verdict = judgeProxy(rec, 'req', 'proxy L7');
    return {
      ...verdict,
      detail: `${ctx.l7.method} ${ctx.l7.host}${ctx.l7.path}: ${verdict.detail}`,
    };
  },
};

const credentials: AttemptSpec = {
  id: 'proxy-credentials',
  category: 'proxy',
  attempt: "send a provider's credential placeholder to a host it is not bound to",
  script: (ctx) => {
    const key = ctx.credential.envKey;
    return `r value "\${${key}:-}"
${curlThroughProxy('req', toUrl('http', ctx.credential.target), `-H "Authorization: Bearer \${${key}:-}"`)}`;
  },
  judge(rec, ctx) {
    const value = field(rec, 'value');
    if (value === ctx.credential.dummy) {
      return notBlocked('proxy credentials', 'the real secret is in the sandbox environment');
    }
    if (!value.startsWith('openshell:resolve:')) {
      return voidProof(
        'proxy credentials',
        `control failed: ${ctx.credential.envKey} holds no placeholder`,
      );
    }
    const target = ctx.credential.target;
    // Name resolution and the SSRF check come before the credential check in the proxy, so
    // an "upstream failed" here may mean the check was never reached: not a proof either way.
    if (field(rec, 'req.error') === 'upstream_failed') {
      return voidProof(
        'proxy credentials',
        `${target.host}:${String(target.port)} could not be reached, so the credential check is unproven`,
      );
    }
    const verdict = judgeProxy(rec, 'req', 'proxy credentials');
    return {
      ...verdict,
      detail: `${target.host}:${String(target.port)} (${target.why}): ${verdict.detail}`,
    };
  },
};

/** Attempts through the proxy: L4, SSRF, L7 path tricks, credential exfiltration. */
export const PROXY_ATTEMPTS: readonly AttemptSpec[] = [
  l4,
  ssrf(
    'proxy-ssrf-metadata',
    'reach the cloud metadata address through the proxy',
    () => 'http://169.254.169.254/latest/meta-data/',
  ),
  ssrf(
    'proxy-ssrf-loopback',
    "reach the host's loopback (the gateway API, by name) through the proxy",
    (port) => `http://localhost:${String(port)}/`,
  ),
  ssrfPrivate,
  l7,
  credentials,
];
