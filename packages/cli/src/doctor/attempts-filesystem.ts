import {
  REMOTE_HOST,
  blocked,
  field,
  notBlocked,
  shellQuote,
  voidProof,
  type AttemptSpec,
  type Verdict,
} from './attempt-spec.js';
import { layerForEacces } from './dac-layer.js';

// Every read goes to /dev/null and only exit codes, error texts and entry names come back:
// the proof must not carry a host secret out even when an attempt succeeds.
const READ_CONTROL =
  '{ head -c 1 /etc/os-release || head -c 1 /usr/lib/os-release; } >/dev/null 2>&1; r control $?';

function judgeRead(path: string, rc: string, err: string, stat: string, uid: string): Verdict {
  if (rc === '0') return notBlocked(null, `read ${path}`);
  if (err.includes('No such file')) {
    return blocked('namespaces/mount', `${path} does not exist in the sandbox's filesystem`);
  }
  if (err.includes('Permission denied')) {
    return blocked(layerForEacces(stat, uid, 4), `${path}: Permission denied`);
  }
  return voidProof(null, `unexpected answer reading ${path}: ${err || `exit ${rc}`}`);
}

const readShadow: AttemptSpec = {
  id: 'fs-read-shadow',
  category: 'filesystem',
  attempt: 'read /etc/shadow',
  script: () => `out=$(cat /etc/shadow 2>&1 >/dev/null); r rc $?; r err "$out"
r stat "$(stat -c '%a %u' /etc/shadow 2>/dev/null)"; r uid "$(id -u)"
${READ_CONTROL}`,
  judge(rec) {
    if (field(rec, 'control') !== '0')
      return voidProof(null, 'control failed: /etc/os-release is not readable');
    return judgeRead(
      '/etc/shadow',
      field(rec, 'rc'),
      field(rec, 'err'),
      field(rec, 'stat'),
      field(rec, 'uid'),
    );
  },
};

const readRoot: AttemptSpec = {
  id: 'fs-read-root',
  category: 'filesystem',
  attempt: "list the host root's home (/root)",
  script: () => `out=$(ls -A /root 2>&1 >/dev/null); r rc $?; r err "$out"
r entries "$(ls -A /root 2>/dev/null | tr '\\n' '/')"
r stat "$(stat -c '%a %u' /root 2>/dev/null)"; r uid "$(id -u)"`,
  judge(rec, _ctx, host) {
    if (!host.local) return REMOTE_HOST;
    const rc = field(rec, 'rc');
    if (rc !== '0') {
      return judgeRead('/root', rc, field(rec, 'err'), field(rec, 'stat'), field(rec, 'uid'));
    }
    if (host.rootEntries === undefined) {
      return voidProof('namespaces/mount', 'cannot list the host /root to compare (run as root)');
    }
    if (host.rootEntries.length === 0) {
      return voidProof('namespaces/mount', 'the host /root is empty: nothing to compare against');
    }
    const inside = new Set(
      field(rec, 'entries')
        .split('/')
        .filter((e) => e !== ''),
    );
    const leaked = host.rootEntries.filter((e) => inside.has(e));
    if (leaked.length > 0) {
      return notBlocked(
        'namespaces/mount',
        `sees host /root entries: ${leaked.slice(0, 5).join(', ')}`,
      );
    }
    return blocked(
      'namespaces/mount',
      `/root inside shows none of the host's ${String(host.rootEntries.length)} entries`,
    );
  },
};

function writeInto(dir: string): AttemptSpec {
  const id = `fs-write-${dir.slice(1)}`;
  return {
    id,
    category: 'filesystem',
    attempt: `write a file into the host's ${dir}`,
    script: (ctx) => {
      const file = shellQuote(`${dir}/.openshell-prove-${ctx.tag}`);
      const control = shellQuote(`${ctx.scratch}/write-${ctx.tag}`);
      // A write that got through is undone at once: the prover must not leave litter.
      return `out=$({ echo x > ${file}; } 2>&1); rc=$?; r rc $rc; r err "$out"; [ $rc -eq 0 ] && rm -f ${file}
r stat "$(stat -c '%a %u' ${shellQuote(dir)} 2>/dev/null)"; r uid "$(id -u)"
{ echo x > ${control}; } 2>/dev/null; r control $?`;
    },
    judge(rec) {
      if (field(rec, 'control') !== '0') {
        return voidProof(null, 'control failed: cannot write in /sandbox');
      }
      const err = field(rec, 'err');
      if (field(rec, 'rc') === '0') return notBlocked(null, `wrote a file into ${dir}`);
      if (err.includes('Read-only file system')) {
        return blocked('namespaces/mount', `${dir} is a read-only bind (EROFS)`);
      }
      if (err.includes('Permission denied')) {
        return blocked(
          layerForEacces(field(rec, 'stat'), field(rec, 'uid'), 2),
          `${dir}: Permission denied`,
        );
      }
      return voidProof(null, `unexpected answer writing into ${dir}: ${err || 'no error text'}`);
    },
  };
}

const hostTmp: AttemptSpec = {
  id: 'fs-host-tmp',
  category: 'filesystem',
  attempt: "see or write the host's /tmp",
  script: (ctx) => `test -e ${shellQuote(`/tmp/${ctx.hostTmpMarker}`)}; r seen $?
{ echo x > ${shellQuote(`/tmp/${ctx.hostTmpMarker}-inside`)}; } 2>/dev/null; r control $?`,
  judge(rec, ctx, host) {
    if (!host.local) return REMOTE_HOST;
    if (field(rec, 'control') !== '0')
      return voidProof(null, 'control failed: cannot write the sandbox /tmp');
    if (field(rec, 'seen') === '0') {
      return notBlocked(
        'namespaces/mount',
        `sees the marker /tmp/${ctx.hostTmpMarker} planted on the host`,
      );
    }
    if (host.tmpWriteLeaked) {
      return notBlocked(
        'namespaces/mount',
        "a file written to the sandbox /tmp appeared in the host's /tmp",
      );
    }
    return blocked(
      'namespaces/mount',
      "the sandbox /tmp is its own tmpfs: the host's marker is invisible, its write stayed inside",
    );
  },
};

// Directories the mount namespace shows and whose modes let anyone list them, but which
// no policy path covers: only Landlock stands between the sandbox user and their listing
// (reconnaissance of what the host bound in, the first step of most escapes).
const LANDLOCK_DIRS = ['/', '/run'];

const landlock: AttemptSpec = {
  id: 'fs-landlock',
  category: 'filesystem',
  attempt: "list directories outside the policy's filesystem allowlist (/, /run)",
  script:
    () => `for d in ${LANDLOCK_DIRS.join(' ')}; do out=$(ls -A "$d" 2>&1 >/dev/null); r "$d.rc" $?; r "$d.err" "$out"
  r "$d.stat" "$(stat -c '%a %u' "$d" 2>/dev/null)"; done
r uid "$(id -u)"; ls -A /usr >/dev/null 2>&1; r control $?`,
  judge(rec, ctx) {
    if (field(rec, 'control') !== '0') {
      return voidProof('landlock', 'control failed: /usr cannot be listed');
    }
    const listed = LANDLOCK_DIRS.filter((d) => field(rec, `${d}.rc`) === '0');
    if (listed.length > 0) {
      const why = listed.some((d) => ctx.landlockAllows(d)) ? ' (the policy lists it)' : '';
      return notBlocked('landlock', `listed ${listed.join(', ')}${why}`);
    }
    const verdicts = LANDLOCK_DIRS.map((d) =>
      judgeRead(
        d,
        field(rec, `${d}.rc`),
        field(rec, `${d}.err`),
        field(rec, `${d}.stat`),
        field(rec, 'uid'),
      ),
    );
    const odd = verdicts.find((v) => v.result !== 'blocked');
    if (odd !== undefined) return odd;
    return blocked(verdicts[0]?.layer ?? 'landlock', verdicts.map((v) => v.detail).join('; '));
  },
};

/** Filesystem attempts: host secrets, host directories, the host /tmp, Landlock. */
export const FILESYSTEM_ATTEMPTS: readonly AttemptSpec[] = [
  readShadow,
  readRoot,
  writeInto('/usr'),
  writeInto('/etc'),
  hostTmp,
  landlock,
];
