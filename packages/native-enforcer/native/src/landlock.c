#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "report.h"

/*
 * Debian 12's linux-libc-dev describes Landlock ABI <= 2 only; everything newer is
 * defined here from include/uapi/linux/landlock.h of the kernel that introduced it.
 * The numbers are part of the stable UAPI, so defining them locally is safe.
 */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2, Linux 5.19 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3, Linux 6.2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5, Linux 6.10 */
#endif
#define OS_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6, Linux 6.12 */
#define OS_LANDLOCK_SCOPE_SIGNAL (1ULL << 1)               /* ABI 6, Linux 6.12 */

/* The full ABI 6 layout; older kernels get a prefix of it (size chosen by ABI below). */
struct os_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net; /* ABI 4; left 0: egress is the netns + proxy's job */
    uint64_t scoped;             /* ABI 6 */
};

#define ACCESS_FS_ABI1                                                                          \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
     LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |                               \
     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |                             \
     LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |  \
     LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)

/* Read-only means: list and read, and execute (binaries live under read-only /usr). */
#define ACCESS_FS_READ \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

/*
 * Rights that make sense on a non-directory; the kernel rejects a rule on a file that
 * carries directory rights (EINVAL), so rules for files such as /dev/null are masked.
 */
#define ACCESS_FS_FILE                                                                         \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
     LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* hard_requirement needs read_only to mean read-only, which needs truncate control (ABI 3). */
#define HARD_REQUIREMENT_MIN_ABI 3

int probe_landlock_abi(int *why) {
    long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0) {
        /* ENOSYS: not built in; EOPNOTSUPP: built but not enabled at boot (lsm=); EPERM:
           blocked by a seccomp filter around us (e.g. a container runtime's profile). */
        *why = errno;
        return 0;
    }
    *why = 0;
    return (int)abi;
}

const char *describe_landlock_absence(int why) {
    switch (why) {
    case ENOSYS: return "the kernel was built without CONFIG_SECURITY_LANDLOCK";
    case EOPNOTSUPP: return "Landlock is built in but not enabled (add landlock to the lsm= boot parameter)";
    case EPERM: return "Landlock syscalls are blocked, probably by a seccomp profile around this process";
    default: return strerror(why);
    }
}

/* In best_effort a failed step is reported and skipped; in hard_requirement it is fatal. */
static void degrade(enum landlock_mode mode, const char *what, int err) {
    if (mode == LANDLOCK_MODE_HARD)
        die("landlock", "%s: %s (landlock.compatibility is hard_requirement, refusing to start)",
            what, strerror(err));
    warn_loud("landlock", "%s: %s; continuing because landlock.compatibility is best_effort",
              what, strerror(err));
}

/*
 * Symlinks in rule paths are followed (merged-/usr systems have /lib -> usr/lib). This
 * runs as the sandbox user, so a symlink that user planted at a rule path can only aim
 * the rule at something it can reach, and writes there still need file permission (and
 * the mount namespace's read-only binds still hold) — but a policy should not name a
 * read_write path that sits inside a directory the sandbox user can rewrite.
 */
static void add_path_rule(int ruleset, const char *path, uint64_t rights, uint64_t handled,
                          const char *kind, enum landlock_mode mode) {
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        /* A policy lists paths for several images; one this root filesystem lacks (or this
           user cannot reach) grants nothing, so it is skipped rather than failing the start. */
        if (err == ENOENT || err == ENOTDIR || err == EACCES) {
            note("landlock", "no %s rule for %s: %s", kind, path, strerror(err));
            return;
        }
        char what[512];
        snprintf(what, sizeof what, "cannot open %s path %s", kind, path);
        degrade(mode, what, err);
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        degrade(mode, "fstat on a rule path", err);
        return;
    }
    if (!S_ISDIR(st.st_mode)) rights &= ACCESS_FS_FILE;
    struct landlock_path_beneath_attr attr = {.allowed_access = rights & handled, .parent_fd = fd};
    if (syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) != 0) {
        int err = errno;
        char what[512];
        snprintf(what, sizeof what, "adding the %s rule for %s", kind, path);
        close(fd);
        degrade(mode, what, err);
        return;
    }
    close(fd);
}

static void warn_missing_features(int abi, enum landlock_mode mode) {
    if (abi < HARD_REQUIREMENT_MIN_ABI) {
        if (mode == LANDLOCK_MODE_HARD)
            die("landlock", "kernel Landlock ABI %d cannot restrict truncate(), so read_only paths "
                "would stay truncatable; hard_requirement needs ABI >= %d (Linux 6.2+); "
                "refusing to start", abi, HARD_REQUIREMENT_MIN_ABI);
        warn_loud("landlock", "kernel Landlock ABI %d cannot restrict truncate(): files under "
                  "read_only paths that the user may write can still be truncated", abi);
    }
    if (abi < 5)
        warn_loud("landlock", "kernel Landlock ABI %d cannot restrict ioctl on device files", abi);
    if (abi < 6)
        warn_loud("landlock", "kernel Landlock ABI %d cannot scope signals or abstract unix "
                  "sockets: the sandbox may signal or connect to same-user processes outside it", abi);
}

void apply_landlock(const struct launch_spec *spec) {
    enum landlock_mode mode = spec->landlock;
    int why = 0, abi;

    if (mode == LANDLOCK_MODE_OFF) return;
    if (spec->test_landlock_unavailable) {
        abi = 0;
        why = ENOSYS;
    } else {
        abi = probe_landlock_abi(&why);
    }
    if (abi <= 0) {
        const char *reason = spec->test_landlock_unavailable
                                 ? "simulated by the spec's test_landlock_unavailable switch"
                                 : describe_landlock_absence(why);
        if (mode == LANDLOCK_MODE_HARD)
            die("landlock", "Landlock is unavailable (%s) and landlock.compatibility is "
                "hard_requirement; refusing to start (enable Landlock, or set compatibility: "
                "best_effort to run without it)", reason);
        warn_loud("landlock", "Landlock is unavailable (%s): filesystem access of this process "
                  "is NOT restricted by Landlock (landlock.compatibility is best_effort)", reason);
        return;
    }
    warn_missing_features(abi, mode);

    struct os_ruleset_attr attr = {ACCESS_FS_ABI1, 0, 0};
    size_t attr_size = sizeof attr.handled_access_fs;
    if (abi >= 2) attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 4) attr_size = offsetof(struct os_ruleset_attr, scoped);
    if (abi >= 5) attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    if (abi >= 6) {
        /* Scoping keeps the sandbox from signalling same-uid processes in other sandboxes
           or exec sessions and from reaching abstract unix sockets (which ignore the
           filesystem: D-Bus, X11, other sandboxes' helpers) outside its own domain. */
        attr.scoped = OS_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | OS_LANDLOCK_SCOPE_SIGNAL;
        attr_size = sizeof attr;
    }

    long ruleset = syscall(__NR_landlock_create_ruleset, &attr, attr_size, 0);
    if (ruleset < 0) {
        degrade(mode, "creating the ruleset", errno);
        return;
    }
    for (size_t i = 0; i < spec->nro; i++)
        add_path_rule((int)ruleset, spec->ro_paths[i], ACCESS_FS_READ, attr.handled_access_fs,
                      "read-only", mode);
    for (size_t i = 0; i < spec->nrw; i++)
        add_path_rule((int)ruleset, spec->rw_paths[i], attr.handled_access_fs,
                      attr.handled_access_fs, "read-write", mode);

    if (syscall(__NR_landlock_restrict_self, ruleset, 0) != 0) {
        int err = errno;
        close((int)ruleset);
        degrade(mode, "restrict_self (filesystem access is NOT restricted)", err);
        return;
    }
    close((int)ruleset);
}
