/*
 * openshell-pty-exec: gives a sandboxed command a terminal.
 *
 * Node cannot make a pty slave a controlling terminal or set its window size (ioctls), and
 * cannot run code between fork and exec. The agent opens /dev/ptmx itself and reads and
 * writes the master directly; this helper does the rest:
 *
 *   openshell-pty-exec exec LAUNCHER ROWS COLS UID
 *       fd 0 = the pty master (opened by the agent), fd 1 = a pipe for the command's pid,
 *       fd 3 = the launch spec. Unlocks the master and forks. The child starts a new
 *       session, makes the slave its controlling terminal, hands it to UID (as login(1)
 *       does, so /dev/pts/N is usable by the sandbox user), sets the window size, puts it
 *       on fds 0-2 and execs LAUNCHER (empty environment; the spec on fd 3 passes through
 *       untouched, so enforcement is exactly that of a piped command). The parent writes
 *       the child's pid to fd 1, keeps its copy of the master open until the child exits,
 *       and then exits the same way (code, or the same signal).
 *   openshell-pty-exec resize ROWS COLS
 *       fd 0 = a pty master; sets its window size (the kernel sends SIGWINCH to the
 *       terminal's foreground process group).
 *
 * Why the parent waits holding the master: a program that closes its stdio before exiting
 * (cat, many CLIs) makes the master read EIO while the program still runs, and Node closes
 * the master on that error. If that were the last reference, the kernel would hang up the
 * terminal and kill the program with SIGHUP instead of letting it exit with its own status.
 * A terminal emulator avoids this by closing the master only after the child exited; the
 * parent here is that terminal emulator's reference.
 *
 * Errors before exec go to stderr as "openshell-pty-exec: <step>: <error>", exit 125 (the
 * launcher's "set-up failed, nothing ran" code).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define EXIT_SETUP_FAILED 125

static volatile pid_t child_pid = 0;

__attribute__((noreturn, format(printf, 2, 3))) static void die(const char *step, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "openshell-pty-exec: %s: ", step);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    _exit(EXIT_SETUP_FAILED);
}

static unsigned long parse_number(const char *what, const char *text, unsigned long max) {
    char *end = NULL;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value > max)
        die("usage", "%s %s is not a number in 0..%lu", what, text, max);
    return value;
}

static struct winsize parse_size(const char *rows, const char *cols) {
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_row = (unsigned short)parse_number("rows", rows, USHRT_MAX);
    ws.ws_col = (unsigned short)parse_number("cols", cols, USHRT_MAX);
    return ws;
}

/*
 * TIOCGPTPEER (Linux 4.13) opens the slave through the master itself, so no path lookup
 * in /dev/pts can be raced or land in another devpts instance; ptsname is the fallback.
 */
static int open_slave(int master) {
#ifdef TIOCGPTPEER
    int fd = ioctl(master, TIOCGPTPEER, O_RDWR);
    if (fd >= 0) return fd;
    if (errno != EINVAL && errno != ENOTTY) die("open slave", "TIOCGPTPEER: %s", strerror(errno));
#endif
    char name[64];
    if (ptsname_r(master, name, sizeof name) != 0) die("open slave", "ptsname: %s", strerror(errno));
    int slave = open(name, O_RDWR);
    if (slave < 0) die("open slave", "%s: %s", name, strerror(errno));
    return slave;
}

static __attribute__((noreturn)) void exec_on_terminal(const char *launcher, struct winsize ws, uid_t uid) {
    /* A new session without a controlling terminal: the slave becomes its controlling
       terminal, and the command cannot reach the agent's (or the user's) with TIOCSTI. */
    if (setsid() < 0) die("session", "setsid: %s", strerror(errno));
    int slave = open_slave(0);
    if (ioctl(slave, TIOCSCTTY, 0) != 0) die("session", "TIOCSCTTY: %s", strerror(errno));
    /* Group stays the devpts default (tty); mode 0620 as login(1) leaves it. Without
       CAP_CHOWN (an agent given only the launcher's capabilities) the slave stays root's:
       the command still has it on fds 0-2 and as /dev/tty, only opening /dev/pts/N by
       name is refused, so EPERM is not worth failing the session for. */
    if (fchown(slave, uid, (gid_t)-1) == 0) {
        if (fchmod(slave, 0620) != 0) die("terminal", "fchmod: %s", strerror(errno));
    } else if (errno != EPERM) {
        die("terminal", "fchown: %s", strerror(errno));
    }
    if (ioctl(slave, TIOCSWINSZ, &ws) != 0) die("terminal", "TIOCSWINSZ: %s", strerror(errno));
    /* Replacing fd 0 drops the command's copy of the master, fd 1 the pid pipe. */
    for (int fd = 0; fd <= 2; fd++) {
        if (dup2(slave, fd) < 0) die("terminal", "dup2 %d: %s", fd, strerror(errno));
    }
    if (slave > 2) close(slave);
    char *const launcher_argv[] = {(char *)launcher, NULL};
    char *const empty_env[] = {NULL};
    execve(launcher, launcher_argv, empty_env);
    die("exec", "%s: %s", launcher, strerror(errno));
}

/* A signal meant for the session (the agent's own stop) goes to the command's group. */
static void forward_signal(int sig) {
    if (child_pid > 0) kill(-child_pid, sig);
}

static __attribute__((noreturn)) void exit_like(int status) {
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        struct rlimit no_core = {0, 0};
        (void)setrlimit(RLIMIT_CORE, &no_core);
        signal(sig, SIG_DFL);
        sigset_t only;
        sigemptyset(&only);
        sigaddset(&only, sig);
        (void)sigprocmask(SIG_UNBLOCK, &only, NULL);
        raise(sig);
    }
    _exit(EXIT_SETUP_FAILED);
}

static __attribute__((noreturn)) void run_exec(char **argv) {
    const char *launcher = argv[2];
    struct winsize ws = parse_size(argv[3], argv[4]);
    uid_t uid = (uid_t)parse_number("uid", argv[5], 4294967294UL);
    if (uid == 0) die("usage", "uid 0 is refused: the terminal belongs to the sandbox user");
    if (!isatty(0)) die("master", "fd 0 is not a terminal (expected the pty master)");
    if (unlockpt(0) != 0) die("master", "unlockpt: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) die("fork", "%s", strerror(errno));
    if (pid == 0) exec_on_terminal(launcher, ws, uid);
    child_pid = pid;
    close(3); /* the spec is the child's to read */
    struct sigaction forward;
    memset(&forward, 0, sizeof forward);
    forward.sa_handler = forward_signal;
    sigemptyset(&forward.sa_mask);
    int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) (void)sigaction(forwarded[i], &forward, NULL);
    if (dprintf(1, "%d\n", (int)pid) < 0) die("report", "writing the pid: %s", strerror(errno));
    close(1);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) die("wait", "%s", strerror(errno));
    }
    exit_like(status);
}

static int run_resize(char **argv) {
    struct winsize ws = parse_size(argv[2], argv[3]);
    if (ioctl(0, TIOCSWINSZ, &ws) != 0) die("resize", "TIOCSWINSZ: %s", strerror(errno));
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "exec") == 0) run_exec(argv);
    if (argc == 4 && strcmp(argv[1], "resize") == 0) return run_resize(argv);
    die("usage", "openshell-pty-exec exec LAUNCHER ROWS COLS UID | resize ROWS COLS");
}
