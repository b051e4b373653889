/*
 * openshell-launcher: applies a sandbox's process and filesystem restrictions to itself,
 * then execs the sandboxed command. Node cannot run code between fork and exec, so
 * whatever the command must inherit is set up here. See spec.h for the input and
 * report.h for diagnostics and exit codes.
 *
 * Order matters (DESIGN.md §3 step 5): each step needs privileges the next one removes,
 * and every failure before execve exits without executing anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock.h"
#include "privileges.h"
#include "probe.h"
#include "report.h"
#include "seccomp.h"
#include "spec.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* A closed 0-2 would be taken by the next open() and receive output meant for stderr. */
static void ensure_std_fds(void) {
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
        int nfd = open("/dev/null", O_RDWR);
        if (nfd != fd) die_with(EXIT_SETUP_FAILED, "stdio", "fd %d is closed and /dev/null cannot replace it", fd);
    }
}

/*
 * Anything the caller leaked (sockets to the gateway, the agent's token fd) stays behind.
 * Runs twice: above the spec fd before the spec is read — a leaked copy of the pipe's
 * write end would otherwise keep EOF from ever arriving — and from the spec fd up after.
 */
static void close_fds_from(unsigned first) {
    if (syscall(__NR_close_range, first, ~0U, 0U) == 0) return;
    if (errno != ENOSYS) die("fds", "close_range: %s", strerror(errno));
    struct rlimit l;
    if (getrlimit(RLIMIT_NOFILE, &l) != 0) die("fds", "getrlimit: %s", strerror(errno));
    for (rlim_t fd = first; fd < l.rlim_cur && fd < (rlim_t)INT_MAX; fd++) close((int)fd);
}

/*
 * Which signals are ignored, from /proc/self/status "SigIgn:" (bit n-1 = signal n).
 * Returns -1 when /proc is not readable, so the caller resets every signal instead.
 */
static int read_ignored_signals(unsigned long long *mask) {
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    const char *line = strstr(buf, "\nSigIgn:\t");
    if (line == NULL) return -1;
    char *end = NULL;
    errno = 0;
    *mask = strtoull(line + 9, &end, 16);
    return (errno != 0 || end == line + 9) ? -1 : 0;
}

/*
 * Ignored signals and the signal mask survive execve (caught ones are reset by it), so a
 * caller that ignores SIGPIPE or SIGINT would pass that on. Only the ignored signals are
 * reset: one sigaction per signal costs ~2 us each on this kind of VM.
 */
static void reset_signals(void) {
    struct sigaction dfl;
    unsigned long long ignored = ~0ULL;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    if (read_ignored_signals(&ignored) != 0) ignored = ~0ULL;
    for (int sig = 1; sig < NSIG && sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP || !(ignored & (1ULL << (sig - 1)))) continue;
        (void)sigaction(sig, &dfl, NULL); /* EINVAL for glibc's reserved RT signals only */
    }
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) die("signals", "%s", strerror(errno));
}

/* A non-blocking stdin makes shells and most CLIs fail reads with EAGAIN. */
static void prepare_std_fds(void) {
    for (int fd = 0; fd <= 2; fd++) {
        int fdflags = fcntl(fd, F_GETFD);
        int flflags = fcntl(fd, F_GETFL);
        if (fdflags < 0 || flflags < 0) die("stdio", "fd %d: %s", fd, strerror(errno));
        if ((fdflags & FD_CLOEXEC) && fcntl(fd, F_SETFD, fdflags & ~FD_CLOEXEC) != 0)
            die("stdio", "fd %d: clearing FD_CLOEXEC: %s", fd, strerror(errno));
        if ((flflags & O_NONBLOCK) && fcntl(fd, F_SETFL, flflags & ~O_NONBLOCK) != 0)
            die("stdio", "fd %d: clearing O_NONBLOCK: %s", fd, strerror(errno));
    }
}

static const char *spec_path_variable(char **envp) {
    for (char **e = envp; *e != NULL; e++) {
        if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
    }
    return DEFAULT_PATH;
}

static __attribute__((noreturn)) void exit_for_exec_error(const char *what, int err) {
    int code = (err == ENOENT || err == ENOTDIR) ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
    die_with(code, "exec", "%s: %s", what, strerror(err));
}

/*
 * PATH is looked up in the spec's environment (the command's), not the launcher's, and
 * after Landlock and seccomp, so the search sees exactly what the sandbox sees.
 */
static __attribute__((noreturn)) void exec_command(const struct launch_spec *spec) {
    const char *name = spec->argv[0];
    if (strchr(name, '/') != NULL) {
        execve(name, spec->argv, spec->envp);
        exit_for_exec_error(name, errno);
    }
    const char *path = spec_path_variable(spec->envp);
    int saw_eacces = 0;
    char candidate[PATH_MAX];
    for (const char *p = path;; ) {
        const char *end = strchrnul(p, ':');
        size_t dlen = (size_t)(end - p);
        int n = dlen == 0 ? snprintf(candidate, sizeof candidate, "%s", name)
                          : snprintf(candidate, sizeof candidate, "%.*s/%s", (int)dlen, p, name);
        if (n > 0 && (size_t)n < sizeof candidate) {
            execve(candidate, spec->argv, spec->envp);
            switch (errno) {
            case EACCES: saw_eacces = 1; break;
            case ENOENT: case ENOTDIR: case ENAMETOOLONG: case ESTALE: case ENODEV: break;
            default: exit_for_exec_error(candidate, errno);
            }
        }
        if (*end == '\0') break;
        p = end + 1;
    }
    if (saw_eacces) exit_for_exec_error(name, EACCES);
    die_with(EXIT_NOT_FOUND, "exec", "%s: command not found in PATH=%s", name, path);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--probe") == 0) return run_probe();
    if (argc != 1) die("usage", "takes no arguments except --probe; the launch spec is read from fd %d", SPEC_FD);

    struct launch_spec spec;
    ensure_std_fds();
    close_fds_from(SPEC_FD + 1);
    read_launch_spec(SPEC_FD, &spec);
    close_fds_from(SPEC_FD);
    /* Non-dumpable: until execve, no same-uid process may ptrace us or read /proc/<pid>/mem
       or environ while the spec (placeholders, paths) is in memory. execve resets it for
       the command (prctl(2)), which RLIMIT_CORE=0 and the seccomp ptrace deny cover. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) die("dumpable", "%s", strerror(errno));
    reset_signals();
    apply_rlimits(&spec);
    drop_bounding_set();
    clear_ambient_caps();
    switch_identity(&spec);
    clear_capabilities();
    verify_no_privileges(&spec);
    set_no_new_privs();
    if (chdir(spec.cwd) != 0) die("cwd", "%s: %s", spec.cwd, strerror(errno));
    apply_landlock(&spec);
    install_seccomp_filter();
    prepare_std_fds();
    exec_command(&spec);
}
