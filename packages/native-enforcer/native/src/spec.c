#include "spec.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

#define SPEC_MAGIC "openshell-launch-spec=1"
#define SPEC_END "end=1"

static char *read_all(int fd, size_t *len_out) {
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) die("spec", "out of memory");
    for (;;) {
        if (len == cap) {
            if (cap >= SPEC_MAX_BYTES) die("spec", "larger than %u bytes", SPEC_MAX_BYTES);
            cap *= 2;
            buf = realloc(buf, cap);
            if (buf == NULL) die("spec", "out of memory");
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EBADF)
                die("spec", "fd %d is not open (pass the launch spec on fd %d)", fd, fd);
            die("spec", "read fd %d: %s", fd, strerror(errno));
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    *len_out = len;
    return buf;
}

/* Strict decimal: no sign, no spaces, no leading zeros; anything else is refused. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out) {
    uint64_t v = 0;
    if (*s == '\0' || (s[0] == '0' && s[1] != '\0')) return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') return -1;
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (max - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* uid/gid 0 would be root; (uid_t)-1 means "leave unchanged" to setresuid(2). */
static uint32_t parse_id(const char *key, const char *value) {
    uint64_t v;
    if (parse_u64(value, 4294967294u, &v) != 0 || v == 0)
        die("spec", "%s=%s: must be a decimal id in 1..4294967294 (root/0 is refused)", key, value);
    return (uint32_t)v;
}

static rlim_t parse_limit(const char *key, const char *value) {
    uint64_t v;
    if (parse_u64(value, 1u << 30, &v) != 0 || v == 0)
        die("spec", "%s=%s: must be a decimal limit in 1..1073741824", key, value);
    return (rlim_t)v;
}

static const char *require_absolute(const char *key, const char *value) {
    if (value[0] != '/') die("spec", "%s=%s: must be an absolute path", key, value);
    return value;
}

struct counts {
    size_t groups, ro, rw, args, envs;
};

static void once(int *seen, const char *key) {
    if (*seen) die("spec", "key %s given twice", key);
    *seen = 1;
}

/*
 * Two passes over the records: the first checks framing and counts list entries so the
 * second can fill exactly-sized arrays that point into the buffer (no copies).
 */
static void walk_records(char *buf, size_t len, struct launch_spec *spec, struct counts *c, int fill) {
    size_t off = 0, index = 0;
    int seen_end = 0, seen_uid = 0, seen_gid = 0, seen_mode = 0, seen_cwd = 0;
    int seen_nofile = 0, seen_nproc = 0, seen_test = 0;
    struct counts n = {0, 0, 0, 0, 0};

    while (off < len) {
        char *rec = buf + off;
        size_t rlen = strlen(rec);
        off += rlen + 1;
        if (seen_end) die("spec", "data after the end record");
        if (index++ == 0) {
            if (strcmp(rec, SPEC_MAGIC) != 0)
                die("spec", "first record must be \"%s\" (wrong format or version)", SPEC_MAGIC);
            continue;
        }
        if (strcmp(rec, SPEC_END) == 0) {
            seen_end = 1;
            continue;
        }
        char *eq = strchr(rec, '=');
        if (eq == NULL) die("spec", "record %zu has no '=' (expected key=value)", index);
        *eq = '\0';
        const char *key = rec, *value = eq + 1;

        if (strcmp(key, "uid") == 0) {
            once(&seen_uid, key);
            spec->uid = parse_id(key, value);
        } else if (strcmp(key, "gid") == 0) {
            once(&seen_gid, key);
            spec->gid = parse_id(key, value);
        } else if (strcmp(key, "group") == 0) {
            gid_t g = parse_id(key, value);
            if (fill) spec->groups[n.groups] = g;
            n.groups++;
        } else if (strcmp(key, "landlock") == 0) {
            once(&seen_mode, key);
            if (strcmp(value, "off") == 0) spec->landlock = LANDLOCK_MODE_OFF;
            else if (strcmp(value, "best_effort") == 0) spec->landlock = LANDLOCK_MODE_BEST_EFFORT;
            else if (strcmp(value, "hard_requirement") == 0) spec->landlock = LANDLOCK_MODE_HARD;
            else die("spec", "landlock=%s: must be off, best_effort or hard_requirement", value);
        } else if (strcmp(key, "ro") == 0) {
            if (fill) spec->ro_paths[n.ro] = require_absolute(key, value);
            n.ro++;
        } else if (strcmp(key, "rw") == 0) {
            if (fill) spec->rw_paths[n.rw] = require_absolute(key, value);
            n.rw++;
        } else if (strcmp(key, "arg") == 0) {
            if (n.args == 0 && value[0] == '\0') die("spec", "argv[0] is empty");
            if (fill) spec->argv[n.args] = (char *)value;
            n.args++;
        } else if (strcmp(key, "env") == 0) {
            if (value[0] == '=' || strchr(value, '=') == NULL)
                die("spec", "env=%s: must be NAME=value with a non-empty NAME", value);
            if (fill) spec->envp[n.envs] = (char *)value;
            n.envs++;
        } else if (strcmp(key, "cwd") == 0) {
            once(&seen_cwd, key);
            spec->cwd = require_absolute(key, value);
        } else if (strcmp(key, "rlimit_nofile") == 0) {
            once(&seen_nofile, key);
            spec->has_nofile = 1;
            spec->nofile = parse_limit(key, value);
        } else if (strcmp(key, "rlimit_nproc") == 0) {
            once(&seen_nproc, key);
            spec->has_nproc = 1;
            spec->nproc = parse_limit(key, value);
        } else if (strcmp(key, "test_landlock_unavailable") == 0) {
            once(&seen_test, key);
            if (strcmp(value, "1") != 0) die("spec", "test_landlock_unavailable=%s: must be 1", value);
            spec->test_landlock_unavailable = 1;
        } else {
            die("spec", "unknown key \"%s\"", key);
        }
        *eq = '='; /* restore so the second pass sees the same record */
    }

    if (!seen_end) die("spec", "missing end record (spec truncated?)");
    if (!seen_uid) die("spec", "missing uid");
    if (!seen_gid) die("spec", "missing gid");
    if (!seen_mode) die("spec", "missing landlock mode");
    if (!seen_cwd) die("spec", "missing cwd");
    if (n.args == 0) die("spec", "missing command (no arg records)");
    if (n.groups > SPEC_MAX_GROUPS) die("spec", "more than %u supplementary groups", SPEC_MAX_GROUPS);
    if (n.ro > SPEC_MAX_PATHS || n.rw > SPEC_MAX_PATHS)
        die("spec", "more than %u read-only or read-write paths", SPEC_MAX_PATHS);
    *c = n;
}

void read_launch_spec(int fd, struct launch_spec *spec) {
    size_t len = 0;
    char *buf = read_all(fd, &len);
    struct counts c;

    if (len == 0) die("spec", "empty (nothing was written to fd %d)", fd);
    if (buf[len - 1] != '\0') die("spec", "truncated (last record is not NUL-terminated)");

    memset(spec, 0, sizeof *spec);
    walk_records(buf, len, spec, &c, 0);

    spec->groups = calloc(c.groups + 1, sizeof *spec->groups);
    spec->ro_paths = calloc(c.ro + 1, sizeof *spec->ro_paths);
    spec->rw_paths = calloc(c.rw + 1, sizeof *spec->rw_paths);
    spec->argv = calloc(c.args + 1, sizeof *spec->argv);
    spec->envp = calloc(c.envs + 1, sizeof *spec->envp);
    if (!spec->groups || !spec->ro_paths || !spec->rw_paths || !spec->argv || !spec->envp)
        die("spec", "out of memory");

    walk_records(buf, len, spec, &c, 1);
    spec->ngroups = c.groups;
    spec->nro = c.ro;
    spec->nrw = c.rw;
    spec->argc = c.args;
    spec->envc = c.envs;
}
