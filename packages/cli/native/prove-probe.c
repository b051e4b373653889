/*
 * `openshell doctor --prove` probe: performs one escape attempt named on the command line
 * from inside a sandbox and prints the kernel's answer as "OK" or the errno name (EPERM,
 * ECONNREFUSED, ...), so the CLI judges what the kernel said, never timing. The shell
 * utilities cannot make these calls (raw/packet sockets, ptrace, setns on a given fd, a
 * bounded fork storm), and python3 may be absent from the host's /usr, so the CLI ships
 * this static binary and uploads it into the throwaway sandbox. Techniques follow the
 * gateway's escape battery (packages/gateway/test/fixtures/battery-probe.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A connect that the firewall silently dropped would otherwise hang for minutes; the
   design promises a fast reject, so anything slower is reported as ETIMEDOUT. */
#define CONNECT_TIMEOUT_MS 3000

static int result(long rc) {
    puts(rc < 0 ? strerrorname_np(errno) : "OK");
    return 0;
}

static int open_socket(const char *kind) {
    if (strcmp(kind, "tcp") == 0) return socket(AF_INET, SOCK_STREAM, 0);
    if (strcmp(kind, "raw") == 0) return socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (strcmp(kind, "packet") == 0) return socket(AF_PACKET, SOCK_RAW, htons(0x0003));
    if (strcmp(kind, "netlink-audit") == 0) return socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
    fprintf(stderr, "unknown socket kind %s\n", kind);
    exit(2);
}

static socklen_t fill_address(int family, const char *address, int port,
                              struct sockaddr_storage *storage) {
    memset(storage, 0, sizeof *storage);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)storage;
        in->sin_family = AF_INET;
        in->sin_port = htons((unsigned short)port);
        if (inet_pton(AF_INET, address, &in->sin_addr) != 1) exit(2);
        return sizeof *in;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)storage;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((unsigned short)port);
    if (inet_pton(AF_INET6, address, &in6->sin6_addr) != 1) exit(2);
    return sizeof *in6;
}

static int connect_tcp(int family, const char *address, int port) {
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    struct sockaddr_storage storage;
    socklen_t length = fill_address(family, address, port, &storage);
    if (connect(fd, (struct sockaddr *)&storage, length) == 0) return 0;
    if (errno != EINPROGRESS) return -1;
    struct pollfd waiting = {.fd = fd, .events = POLLOUT};
    int ready = poll(&waiting, 1, CONNECT_TIMEOUT_MS);
    if (ready < 0) return -1;
    if (ready == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    int error = 0;
    socklen_t size = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) < 0) return -1;
    if (error != 0) {
        errno = error;
        return -1;
    }
    return 0;
}

/* UDP: the reject rule's ICMP answer surfaces as an error on the next send. */
static int send_udp(const char *address, int port) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_storage storage;
    socklen_t length = fill_address(AF_INET, address, port, &storage);
    if (sendto(fd, "probe", 5, 0, (struct sockaddr *)&storage, length) < 0) return -1;
    usleep(100000);
    return (int)sendto(fd, "probe", 5, 0, (struct sockaddr *)&storage, length);
}

/* Forks up to n children that wait; prints how many started and why the next failed. */
static int fork_many(int n) {
    pid_t *children = calloc((size_t)n, sizeof *children);
    if (children == NULL) return result(-1);
    int started = 0;
    const char *stop = "none";
    for (; started < n; started++) {
        pid_t pid = fork();
        if (pid == 0) {
            pause();
            _exit(0);
        }
        if (pid < 0) {
            stop = strerrorname_np(errno);
            break;
        }
        children[started] = pid;
    }
    for (int i = 0; i < started; i++) kill(children[i], SIGKILL);
    for (int i = 0; i < started; i++) waitpid(children[i], NULL, 0);
    printf("forked=%d stop=%s\n", started, stop);
    return 0;
}

/* Touches memory 16 MiB at a time until it holds `mib` MiB or the kernel kills it. */
static int hog(long mib) {
    for (long total = 16; total <= mib; total += 16) {
        char *block = malloc(16 << 20);
        if (block == NULL) return result(-1);
        memset(block, 1, 16 << 20);
    }
    printf("held=%ld\n", mib);
    return 0;
}

/* Remote ends of this network namespace's established IPv4 TCP connections — the agent's
   link to the gateway's supervisor port among them — as "a.b.c.d port" lines. */
static int peers(void) {
    FILE *table = fopen("/proc/net/tcp", "r");
    if (table == NULL) return result(-1);
    char line[512];
    if (fgets(line, sizeof line, table) == NULL) return result(-1);
    while (fgets(line, sizeof line, table) != NULL) {
        unsigned int remote, port, state;
        if (sscanf(line, " %*d: %*x:%*x %x:%x %x", &remote, &port, &state) != 3) continue;
        if (state != 1) continue; /* TCP_ESTABLISHED */
        struct in_addr address = {.s_addr = remote};
        printf("%s %u\n", inet_ntoa(address), port);
    }
    fclose(table);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *what = argv[1];
    if (strcmp(what, "socket") == 0 && argc == 3) return result(open_socket(argv[2]));
    if (strcmp(what, "tcp4") == 0 && argc == 4)
        return result(connect_tcp(AF_INET, argv[2], atoi(argv[3])));
    if (strcmp(what, "tcp6") == 0 && argc == 4)
        return result(connect_tcp(AF_INET6, argv[2], atoi(argv[3])));
    if (strcmp(what, "udp4") == 0 && argc == 4) return result(send_udp(argv[2], atoi(argv[3])));
    if (strcmp(what, "kill") == 0 && argc == 4) return result(kill(atoi(argv[2]), atoi(argv[3])));
    if (strcmp(what, "ptrace") == 0 && argc == 3)
        return result(ptrace(PTRACE_ATTACH, atoi(argv[2]), NULL, NULL));
    if (strcmp(what, "mount-tmpfs") == 0 && argc == 3)
        return result(mount("none", argv[2], "tmpfs", 0, NULL));
    if (strcmp(what, "remount-rw") == 0 && argc == 3)
        return result(mount(NULL, argv[2], NULL, MS_REMOUNT | MS_BIND, NULL));
    if (strcmp(what, "setns") == 0 && argc == 3) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) return result(-1);
        return result(setns(fd, 0));
    }
    if (strcmp(what, "unshare-user") == 0) return result(unshare(CLONE_NEWUSER));
    if (strcmp(what, "unshare-net") == 0) return result(unshare(CLONE_NEWNET));
    if (strcmp(what, "fork-many") == 0 && argc == 3) return fork_many(atoi(argv[2]));
    if (strcmp(what, "hog") == 0 && argc == 3) return hog(atol(argv[2]));
    if (strcmp(what, "peers") == 0) return peers();
    fprintf(stderr, "unknown probe %s\n", what);
    return 2;
}
