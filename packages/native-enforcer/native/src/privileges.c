#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "report.h"

/*
 * Limits are set while the launcher still holds CAP_SYS_RESOURCE, so a limit above the
 * current hard limit can still be installed. soft = hard, so the program cannot raise it.
 * RLIMIT_CORE 0 keeps the sandbox's memory (credential placeholders, tokens it fetched)
 * out of core files, which land where the sandbox's owner — or the host — can read them.
 */
void apply_rlimits(const struct launch_spec *spec) {
    struct rlimit zero = {0, 0};
    if (setrlimit(RLIMIT_CORE, &zero) != 0) die("rlimit", "RLIMIT_CORE=0: %s", strerror(errno));
    if (spec->has_nofile) {
        struct rlimit l = {spec->nofile, spec->nofile};
        if (setrlimit(RLIMIT_NOFILE, &l) != 0)
            die("rlimit", "RLIMIT_NOFILE=%lu: %s", (unsigned long)spec->nofile, strerror(errno));
    }
    if (spec->has_nproc) {
        struct rlimit l = {spec->nproc, spec->nproc};
        if (setrlimit(RLIMIT_NPROC, &l) != 0)
            die("rlimit", "RLIMIT_NPROC=%lu: %s", (unsigned long)spec->nproc, strerror(errno));
    }
}

/*
 * The bounding set limits what any later execve (a setuid or file-capability binary)
 * could add back. Dropping needs CAP_SETPCAP, which disappears with setresuid, so this
 * runs first. Caps beyond cap_last_cap make PR_CAPBSET_READ fail with EINVAL; walking
 * until then avoids depending on /proc (absent in some root filesystems).
 */
void drop_bounding_set(void) {
    for (unsigned long cap = 0; cap < 64; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
        /* Without CAP_SETPCAP every drop fails with EPERM, even for caps already gone
           (a launcher started inside a sandbox): only a cap still present is an error. */
        int err = errno;
        int present = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (present < 0 && errno == EINVAL) break; /* past cap_last_cap */
        if (present == 0) continue;
        die("capabilities", "cannot drop capability %lu from the bounding set: %s "
            "(the launcher needs CAP_SETPCAP)", cap, strerror(err));
    }
}

/* Ambient caps survive execve of unprivileged binaries; EINVAL = kernel < 4.3, none exist. */
void clear_ambient_caps(void) {
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        die("capabilities", "clearing the ambient set: %s", strerror(errno));
}

/*
 * Groups first (setgroups needs CAP_SETGID, which setresuid takes away), then gid, then
 * uid. All three ids of each triple are set, so no saved root id remains to switch back to.
 */
void switch_identity(const struct launch_spec *spec) {
    if (setgroups(spec->ngroups, spec->groups) != 0)
        die("identity", "setgroups(%zu groups): %s", spec->ngroups, strerror(errno));
    if (setresgid(spec->gid, spec->gid, spec->gid) != 0)
        die("identity", "setresgid(%u): %s", (unsigned)spec->gid, strerror(errno));
    if (setresuid(spec->uid, spec->uid, spec->uid) != 0)
        die("identity", "setresuid(%u): %s", (unsigned)spec->uid, strerror(errno));
}

/*
 * setresuid away from root clears permitted and effective but keeps inheritable (and
 * SECBIT_KEEP_CAPS/NO_SETUID_FIXUP set by a caller would keep more), so all three sets
 * are zeroed explicitly.
 */
void clear_capabilities(void) {
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) != 0)
        die("capabilities", "capset(all zero): %s", strerror(errno));
}

/*
 * Trust, but verify: every later step assumes the process can no longer become root or
 * use a capability, so check the kernel's view instead of the calls' return values.
 */
void verify_no_privileges(const struct launch_spec *spec) {
    uid_t ru, eu, su;
    gid_t rg, eg, sg;

    if (setresuid(0, 0, 0) == 0) die("verify", "setresuid(0) succeeded after the privilege drop");
    if (setresgid(0, 0, 0) == 0) die("verify", "setresgid(0) succeeded after the privilege drop");
    if (setgroups(0, NULL) == 0) die("verify", "setgroups succeeded after the privilege drop");
    if (getresuid(&ru, &eu, &su) != 0 || ru != spec->uid || eu != spec->uid || su != spec->uid)
        die("verify", "uids are not all %u", (unsigned)spec->uid);
    if (getresgid(&rg, &eg, &sg) != 0 || rg != spec->gid || eg != spec->gid || sg != spec->gid)
        die("verify", "gids are not all %u", (unsigned)spec->gid);

    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    if (syscall(SYS_capget, &hdr, data) != 0) die("verify", "capget: %s", strerror(errno));
    /* The kernel keeps ambient ⊆ permitted ∩ inheritable, so empty permitted and
       inheritable sets imply an empty ambient set; the bounding set was checked cap by
       cap while it was dropped. */
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
        if (data[i].effective || data[i].permitted || data[i].inheritable)
            die("verify", "capability sets are not empty after capset");
    }
}

/*
 * no_new_privs: execve can no longer grant privileges (setuid bits and file caps are
 * ignored), and it is what lets an unprivileged process install Landlock and seccomp.
 */
void set_no_new_privs(void) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no_new_privs", "%s", strerror(errno));
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) die("no_new_privs", "flag did not stick");
}
