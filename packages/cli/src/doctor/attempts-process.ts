import {
  REMOTE_HOST,
  blocked,
  field,
  notBlocked,
  shellQuote,
  skipped,
  voidProof,
  type AttemptRecord,
  type AttemptSpec,
  type Verdict,
} from './attempt-spec.js';
import type { ProveLayer } from './prove-types.js';

/**
 * Judges probe answers (errno names or OK): any OK is a hole; every key must carry one of
 * the errnos `expected` maps to the layer that produces it. An optional control key must
 * say OK, or the proof is void.
 */
function judgeErrnos(
  rec: AttemptRecord,
  keys: readonly string[],
  expected: Readonly<Record<string, ProveLayer>>,
  fallback: ProveLayer,
  control?: string,
): Verdict {
  if (control !== undefined && field(rec, 'control') !== 'OK') {
    return voidProof(
      fallback,
      `control failed: ${control} answered ${field(rec, 'control') || 'nothing'}`,
    );
  }
  const answers = keys.map((key) => ({ key, answer: field(rec, key) }));
  const open = answers.filter((a) => a.answer === 'OK');
  if (open.length > 0) {
    return notBlocked(fallback, `succeeded: ${open.map((a) => a.key).join(', ')}`);
  }
  // The answers come from the sandbox: only own keys count ("constructor" is not an errno).
  const known = (answer: string): boolean => Object.hasOwn(expected, answer);
  const odd = answers.filter((a) => !known(a.answer));
  if (odd.length > 0) {
    return voidProof(
      fallback,
      `unexpected answers: ${odd.map((a) => `${a.key}=${a.answer || 'none'}`).join(', ')}`,
    );
  }
  const first = answers[0];
  const layer =
    first !== undefined && known(first.answer) ? (expected[first.answer] ?? fallback) : fallback;
  return blocked(layer, answers.map((a) => `${a.key} → ${a.answer}`).join(', '));
}

const hostPids: AttemptSpec = {
  id: 'proc-host-pids',
  category: 'process',
  attempt: 'see host processes in /proc',
  script: () => `r count "$(ls -d /proc/[0-9]* 2>/dev/null | wc -l)"`,
  judge(rec, _ctx, host) {
    if (!host.local) return REMOTE_HOST;
    const count = Number(field(rec, 'count'));
    if (!Number.isInteger(count) || count <= 0)
      return voidProof('namespaces/pid', 'could not count /proc entries');
    const detail = `sees ${String(count)} processes, the host has ${String(host.pidCount)}`;
    return count < host.pidCount
      ? blocked('namespaces/pid', detail)
      : notBlocked('namespaces/pid', detail);
  },
};

// The session's parent is the sandbox agent (root, outside the sandbox's uid): the process
// an attacker would kill to stop enforcement or trace to steal its gateway token.
const signalAgent: AttemptSpec = {
  id: 'proc-signal-agent',
  category: 'process',
  attempt: "signal the agent and the sandbox's init",
  // Signal 0 runs the same permission check as SIGKILL (kill(2)) without the damage: a
  // hole must be reported, not turned into a dead sandbox half-way through the proof.
  script: (ctx) => `r agent "$(${ctx.probe} kill $PPID 0)"; r init "$(${ctx.probe} kill 1 0)"
r control "$(${ctx.probe} kill $$ 0)"`,
  judge: (rec) =>
    judgeErrnos(
      rec,
      ['agent', 'init'],
      { EPERM: 'uid/capabilities' },
      'uid/capabilities',
      'signalling itself',
    ),
};

const ptraceAgent: AttemptSpec = {
  id: 'proc-ptrace-agent',
  category: 'process',
  attempt: 'ptrace-attach the agent',
  script: (ctx) => `r ptrace "$(${ctx.probe} ptrace $PPID)"`,
  // seccomp answers at syscall entry, before the kernel's ptrace access check.
  judge: (rec) => judgeErrnos(rec, ['ptrace'], { EPERM: 'seccomp' }, 'seccomp'),
};

const setuidRoot: AttemptSpec = {
  id: 'proc-setuid',
  category: 'process',
  attempt: 'gain root through a setuid binary (mount)',
  script: (ctx) => `mkdir -p ${shellQuote(`${ctx.scratch}/m`)}
m=$(command -v mount); r mode "$(stat -c %A "$m" 2>/dev/null)"
out=$(mount -t tmpfs none ${shellQuote(`${ctx.scratch}/m`)} 2>&1); r rc $?; r err "$(echo "$out" | head -n 1)"
r nnp "$(grep '^NoNewPrivs:' /proc/self/status | tr -dc 0-9)"`,
  judge(rec) {
    if (!field(rec, 'mode').includes('s')) return skipped('mount(8) is not setuid on this host');
    if (field(rec, 'rc') === '0')
      return notBlocked('no_new_privs', 'setuid mount(8) mounted a tmpfs');
    const err = field(rec, 'err');
    if (field(rec, 'nnp') === '1' && /must be superuser|only root/i.test(err)) {
      return blocked('no_new_privs', `the setuid bit was ignored: "${err}"`);
    }
    return voidProof(
      'no_new_privs',
      `unexpected: NoNewPrivs=${field(rec, 'nnp') || '?'}, mount said "${err}"`,
    );
  },
};

const mountAttempt: AttemptSpec = {
  id: 'ns-mount',
  category: 'namespaces',
  attempt: 'mount a tmpfs, remount /usr read-write',
  script: (ctx) => `mkdir -p ${shellQuote(`${ctx.scratch}/m`)}
r mount "$(${ctx.probe} mount-tmpfs ${shellQuote(`${ctx.scratch}/m`)})"; r remount "$(${ctx.probe} remount-rw /usr)"`,
  judge: (rec) => judgeErrnos(rec, ['mount', 'remount'], { EPERM: 'seccomp' }, 'seccomp'),
};

const unshareUser: AttemptSpec = {
  id: 'ns-unshare',
  category: 'namespaces',
  attempt: 'create a user namespace (unshare -U) or a network namespace',
  script: (ctx) => `r user "$(${ctx.probe} unshare-user)"; r net "$(${ctx.probe} unshare-net)"
unshare -U -r id -u >/dev/null 2>&1 && r tool OK || r tool EPERM`,
  judge: (rec) => judgeErrnos(rec, ['user', 'net', 'tool'], { EPERM: 'seccomp' }, 'seccomp'),
};

const setns: AttemptSpec = {
  id: 'ns-setns',
  category: 'namespaces',
  attempt: "join init's network namespace (setns, nsenter)",
  script: (ctx) => `r setns "$(${ctx.probe} setns /proc/1/ns/net)"
nsenter --net=/proc/1/ns/net true >/dev/null 2>&1 && r nsenter OK || r nsenter EPERM`,
  // Opening another uid's namespace file fails first (ptrace access mode, EACCES); with an
  // fd in hand, seccomp refuses setns itself.
  judge: (rec) =>
    judgeErrnos(
      rec,
      ['setns', 'nsenter'],
      { EACCES: 'uid/capabilities', EPERM: 'seccomp' },
      'seccomp',
    ),
};

function socketAttempt(kind: string, layer: ProveLayer, what: string): AttemptSpec {
  return {
    id: `sock-${kind}`,
    category: 'sockets',
    attempt: `open a ${what} socket`,
    script: (ctx) =>
      `r open "$(${ctx.probe} socket ${kind})"; r control "$(${ctx.probe} socket tcp)"`,
    judge: (rec) => judgeErrnos(rec, ['open'], { EPERM: layer }, layer, 'a TCP socket'),
  };
}

/** Process, namespace and socket attempts (the kernel side of the sandbox). */
export const PROCESS_ATTEMPTS: readonly AttemptSpec[] = [
  hostPids,
  signalAgent,
  ptraceAgent,
  setuidRoot,
  mountAttempt,
  unshareUser,
  setns,
  // AF_INET passes the seccomp family allow-list: a raw one needs CAP_NET_RAW, which is gone.
  socketAttempt('raw', 'uid/capabilities', 'raw IPv4'),
  // AF_PACKET and NETLINK_AUDIT are outside seccomp's socket allow-list.
  socketAttempt('packet', 'seccomp', 'packet (AF_PACKET)'),
  socketAttempt('netlink-audit', 'seccomp', 'netlink audit'),
];
