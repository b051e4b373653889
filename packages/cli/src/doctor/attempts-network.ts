import {
  blocked,
  field,
  notBlocked,
  voidProof,
  type AttemptRecord,
  type AttemptSpec,
  type Verdict,
} from './attempt-spec.js';

// What the firewall in the sandbox's netns answers: TCP reset, ICMP port-unreachable (EPERM
// at send for UDP), or no route at all. A timeout means packets were silently dropped or
// left: the design promises a fast reject, so it voids the proof rather than passing it.
const REJECTED = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPERM',
  'EACCES',
  'EADDRNOTAVAIL',
]);

function judgeConnects(rec: AttemptRecord, keys: readonly string[], withControl: boolean): Verdict {
  if (withControl && field(rec, 'control') !== 'OK') {
    return voidProof(
      'netns+nftables',
      `control failed: the proxy at ${field(rec, 'proxy') || '(no proxy variable)'} answered ${field(rec, 'control') || 'nothing'}`,
    );
  }
  const answers = keys.map((key) => ({ key, answer: field(rec, key) }));
  const open = answers.filter((a) => a.answer === 'OK');
  if (open.length > 0)
    return notBlocked('netns+nftables', `connected: ${open.map((a) => a.key).join(', ')}`);
  const odd = answers.filter((a) => !REJECTED.has(a.answer));
  if (odd.length > 0) {
    return voidProof(
      'netns+nftables',
      `not rejected at once: ${odd.map((a) => `${a.key} → ${a.answer || 'none'}`).join(', ')}`,
    );
  }
  return blocked('netns+nftables', answers.map((a) => `${a.key} → ${a.answer}`).join(', '));
}

const CONTROL = 'r proxy "$PXA:$PXP"; r control "$($P tcp4 "$PXA" "$PXP")"';

const direct: AttemptSpec = {
  id: 'net-direct',
  category: 'network',
  attempt: 'connect to an outside address directly, bypassing the proxy',
  script: () => `r 1.1.1.1:443 "$($P tcp4 1.1.1.1 443)"\n${CONTROL}`,
  judge: (rec) => judgeConnects(rec, ['1.1.1.1:443'], true),
};

const udp: AttemptSpec = {
  id: 'net-udp-dns',
  category: 'network',
  attempt: 'send UDP (a DNS query to 8.8.8.8:53)',
  script: () => `r 8.8.8.8:53 "$($P udp4 8.8.8.8 53)"`,
  judge: (rec) => judgeConnects(rec, ['8.8.8.8:53'], false),
};

const ipv6: AttemptSpec = {
  id: 'net-ipv6',
  category: 'network',
  attempt: 'connect over IPv6',
  script: () => `r [2606:4700:4700::1111]:443 "$($P tcp6 2606:4700:4700::1111 443)"`,
  judge: (rec) => judgeConnects(rec, ['[2606:4700:4700::1111]:443'], false),
};

// The gateway's API and health ports listen on the host's 127.0.0.1; the supervisor port
// on the service address accepts only the agent's uid. The sandbox's own connections show
// the supervisor port even when the CLI does not know it (a gateway started by someone else).
const gatewayPorts: AttemptSpec = {
  id: 'net-gateway-ports',
  category: 'network',
  attempt: "reach the gateway's API, health and supervisor ports as the sandbox user",
  script: (ctx) => {
    const ports = ctx.gatewayPorts.map(String).join(' ');
    return `targets=""
for p in ${ports}; do targets="$targets 127.0.0.1:$p $PXA:$p"; done
r supervisor "$(echo $SUPS)"
for p in $SUPS ${String(ctx.supervisorPortHint)}; do targets="$targets $PXA:$p"; done
keys=""
for t in $targets; do case " $keys " in *" $t "*) continue;; esac
  keys="$keys $t"; r "$t" "$($P tcp4 "\${t%:*}" "\${t##*:}")"; done
r keys "$keys"
${CONTROL}`;
  },
  judge(rec) {
    const keys = field(rec, 'keys')
      .split(' ')
      .filter((k) => k !== '');
    if (keys.length === 0) return voidProof('netns+nftables', 'no gateway port to try');
    const verdict = judgeConnects(rec, keys, true);
    const found = field(rec, 'supervisor');
    return found === ''
      ? verdict
      : { ...verdict, detail: `${verdict.detail} (supervisor port seen in use: ${found})` };
  },
};

/** Network attempts below the proxy: direct TCP, UDP, IPv6 and the gateway's own ports. */
export const NETWORK_ATTEMPTS: readonly AttemptSpec[] = [direct, udp, ipv6, gatewayPorts];
