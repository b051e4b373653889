/*
 * openshell-sock-diag: tells the egress proxy which socket (inode, creating uid) is the
 * client end of a TCP connection, by exact 4-tuple, with NETLINK_SOCK_DIAG
 * (sock_diag(7), inet_diag_req_v2 without NLM_F_DUMP). The kernel answers from a hash
 * lookup in microseconds; reading /proc/net/tcp instead walks every bucket of the
 * established hash table (about a millisecond even when it is nearly empty).
 *
 * A persistent co-process of the proxy. Protocol on stdin/stdout, one line each way:
 *   request:  <id> <netns-pid> <local-ip> <local-port> <remote-ip> <remote-port>\n
 *             (local = the client's end; netns-pid 0 = our own network namespace)
 *   answer:   <id> <inode> <uid>\n   or   <id> - <errno>\n   (2 = ENOENT: no such socket)
 * Requests are answered in order; all complete lines of one read are answered in one write.
 * Exits on EOF, and (PR_SET_PDEATHSIG) when the proxy dies.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINE 256

static int own_netns = -1;
static int own_diag = -1;
static uint32_t seq;

static int open_diag_socket(void) {
  return socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

/*
 * A netlink socket belongs to the network namespace it was created in, so for a sandbox
 * we enter its namespace, create one, and come straight back. Not cached: a cached socket
 * would pin the namespace of a deleted sandbox, and setns costs microseconds.
 */
static int diag_socket_for(long pid) {
  if (pid == 0) return own_diag;
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) return -errno;
  int fd = -EPERM;
  if (setns(ns, CLONE_NEWNET) == 0) {
    fd = open_diag_socket();
    if (fd < 0) fd = -errno;
    /* Failing to return would answer later queries from the wrong namespace: stop. */
    if (setns(own_netns, CLONE_NEWNET) != 0) _exit(3);
  } else {
    fd = -errno;
  }
  close(ns);
  return fd;
}

/* One exact lookup. Returns 0 and fills inode/uid, or a positive errno. */
static int lookup(int diag, int family, const void *src, int sport, const void *dst, int dport,
                  unsigned long *inode, unsigned *uid) {
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST;
  msg.nlh.nlmsg_seq = ++seq;
  msg.req.sdiag_family = (uint8_t)family;
  msg.req.sdiag_protocol = IPPROTO_TCP;
  msg.req.idiag_states = ~0u;
  msg.req.id.idiag_sport = htons((uint16_t)sport);
  msg.req.id.idiag_dport = htons((uint16_t)dport);
  memcpy(msg.req.id.idiag_src, src, family == AF_INET ? 4 : 16);
  memcpy(msg.req.id.idiag_dst, dst, family == AF_INET ? 4 : 16);
  msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(diag, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
    return errno;
  for (;;) {
    /* Aligned for the nlmsghdr casts below. */
    long buf[1024];
    ssize_t n = recv(diag, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != seq) continue; /* a late answer to an earlier query */
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        return e->error == 0 ? ENOENT : -e->error;
      }
      if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
          h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
        const struct inet_diag_msg *m = NLMSG_DATA(h);
        *inode = m->idiag_inode;
        *uid = m->idiag_uid;
        return 0;
      }
    }
  }
}

static int parse_port(const char *text) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  return (errno || *end || v < 1 || v > 65535) ? -1 : (int)v;
}

/* Answers one request line into out (at most MAX_LINE bytes). */
static void answer(char *line, char *out) {
  char *fields[6];
  int count = 0;
  for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok && count < 6;
       tok = strtok_r(NULL, " ", &save))
    fields[count++] = tok;
  const char *id = count > 0 && strlen(fields[0]) < 24 ? fields[0] : "0";
  unsigned char src[16], dst[16];
  int family = 0;
  char *end;
  long pid = count == 6 ? strtol(fields[1], &end, 10) : -1;
  int sport = count == 6 ? parse_port(fields[3]) : -1;
  int dport = count == 6 ? parse_port(fields[5]) : -1;
  if (count == 6 && *end == 0 && pid >= 0 && pid <= INT_MAX && sport > 0 && dport > 0) {
    if (inet_pton(AF_INET, fields[2], src) == 1 && inet_pton(AF_INET, fields[4], dst) == 1)
      family = AF_INET;
    else if (inet_pton(AF_INET6, fields[2], src) == 1 && inet_pton(AF_INET6, fields[4], dst) == 1)
      family = AF_INET6;
  }
  if (family == 0) {
    snprintf(out, MAX_LINE, "%s - %d\n", id, EINVAL);
    return;
  }
  int diag = diag_socket_for(pid);
  if (diag < 0) {
    snprintf(out, MAX_LINE, "%s - %d\n", id, -diag);
    return;
  }
  unsigned long inode = 0;
  unsigned uid = 0;
  int err = lookup(diag, family, src, sport, dst, dport, &inode, &uid);
  if (diag != own_diag) close(diag);
  if (err == 0 && inode != 0)
    snprintf(out, MAX_LINE, "%s %lu %u\n", id, inode, uid);
  else
    snprintf(out, MAX_LINE, "%s - %d\n", id, err == 0 ? ENOENT : err);
}

/*
 * Proves the lookup works on this kernel before answering anything: a kernel without the
 * inet_diag handler answers ENOENT to every query, which would read as "no such socket"
 * and deny every connection. Connects a socket to ourselves on loopback and looks it up.
 */
static int self_test(void) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof addr;
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int ok = 0;
  struct sockaddr_in local;
  socklen_t local_len = sizeof local;
  struct stat st;
  if (listener >= 0 && client >= 0 && bind(listener, (struct sockaddr *)&addr, len) == 0 &&
      listen(listener, 1) == 0 && getsockname(listener, (struct sockaddr *)&addr, &len) == 0 &&
      connect(client, (struct sockaddr *)&addr, len) == 0 &&
      getsockname(client, (struct sockaddr *)&local, &local_len) == 0 && fstat(client, &st) == 0) {
    unsigned long inode = 0;
    unsigned uid = 0;
    ok = lookup(own_diag, AF_INET, &local.sin_addr, ntohs(local.sin_port), &addr.sin_addr,
                ntohs(addr.sin_port), &inode, &uid) == 0 &&
         inode == (unsigned long)st.st_ino;
  }
  if (listener >= 0) close(listener);
  if (client >= 0) close(client);
  return ok;
}

/* Writes all of buf; exits when the proxy has gone away. */
static void write_all(const char *buf, size_t len) {
  for (size_t off = 0; off < len;) {
    ssize_t w = write(STDOUT_FILENO, buf + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(0);
    off += (size_t)w;
  }
}

int main(void) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_DFL);
  own_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  own_diag = open_diag_socket();
  if (own_netns < 0 || own_diag < 0) {
    perror("openshell-sock-diag: cannot open a NETLINK_SOCK_DIAG socket");
    return 1;
  }
  if (!self_test()) {
    fputs("openshell-sock-diag: the kernel did not find a loopback socket by its 4-tuple "
          "(no inet_diag support?)\n",
          stderr);
    return 1;
  }
  static char in[65536];
  static char out[64 * MAX_LINE];
  size_t have = 0;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, in + have, sizeof in - 1 - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    have += (size_t)n;
    size_t used = 0, written = 0;
    char *nl;
    while ((nl = memchr(in + used, '\n', have - used)) != NULL) {
      *nl = 0;
      char *line = in + used;
      used = (size_t)(nl - in) + 1;
      if (strlen(line) >= MAX_LINE) line[0] = 0; /* too long: answered as invalid */
      answer(line, out + written);
      written += strlen(out + written);
      if (written > sizeof out - MAX_LINE) {
        write_all(out, written);
        written = 0;
      }
    }
    write_all(out, written);
    memmove(in, in + used, have - used);
    have -= used;
    /* A line longer than the whole buffer: drop it rather than stall. */
    if (have == sizeof in - 1) have = 0;
  }
}
