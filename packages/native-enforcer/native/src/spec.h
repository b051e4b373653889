/*
 * The launch spec: what to run and under which identity and restrictions.
 *
 * Wire format (version 1), read from fd 3 until EOF — never from argv, because it holds
 * the child's environment (credential placeholders) and paths that must not show up in
 * /proc/<pid>/cmdline or ps:
 *
 *   a sequence of NUL-terminated records "key=value"; the first record is exactly
 *   "openshell-launch-spec=1", the last is exactly "end=1" (so a spec cut short by a
 *   crashed writer is refused, never half-applied). Keys:
 *     uid, gid            decimal 1..4294967294 (0 = root refused; 4294967295 is the
 *                         kernel's "unchanged" sentinel for setresuid and refused too)
 *     group               supplementary gid, repeatable, same range
 *     landlock            off | best_effort | hard_requirement
 *     ro, rw              absolute path, repeatable (Landlock read-only / read-write)
 *     arg                 argv element, repeatable, in order; at least one
 *     env                 NAME=value, repeatable, in order; the child gets exactly these
 *     cwd                 absolute path
 *     rlimit_nofile       optional, soft = hard limit
 *     rlimit_nproc        optional, soft = hard limit
 *     test_landlock_unavailable=1
 *                         tests only: act as if the kernel had no Landlock, so tests can
 *                         show that hard_requirement refuses to start and best_effort
 *                         warns. It grants the spec's author nothing `landlock=off` does
 *                         not already grant, and the sandboxed program cannot reach the
 *                         spec.
 *   Unknown keys, repeated scalar keys and malformed values are refused.
 */
#ifndef OPENSHELL_SPEC_H
#define OPENSHELL_SPEC_H

#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#define SPEC_FD 3
#define SPEC_MAX_BYTES (4u << 20)
#define SPEC_MAX_PATHS 1024u
#define SPEC_MAX_GROUPS 1024u

enum landlock_mode { LANDLOCK_MODE_OFF, LANDLOCK_MODE_BEST_EFFORT, LANDLOCK_MODE_HARD };

struct launch_spec {
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    size_t ngroups;
    enum landlock_mode landlock;
    const char **ro_paths;
    size_t nro;
    const char **rw_paths;
    size_t nrw;
    char **argv; /* NULL-terminated */
    size_t argc;
    char **envp; /* NULL-terminated */
    size_t envc;
    const char *cwd;
    int has_nofile;
    rlim_t nofile;
    int has_nproc;
    rlim_t nproc;
    int test_landlock_unavailable;
};

/* Reads the whole spec from `fd` (until EOF) and parses it; dies with step "spec" on error. */
void read_launch_spec(int fd, struct launch_spec *spec);

#endif
