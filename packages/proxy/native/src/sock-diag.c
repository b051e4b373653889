/*
 * openshell-sock-diag: tells the egress proxy which process is the client end of a TCP
 * connection. The socket is found by exact 4-tuple with NETLINK_SOCK_DIAG (sock_diag(7),
 * inet_diag_req_v2 without NLM_F_DUMP): the kernel answers from a hash lookup in
 * microseconds, where reading /proc/net/tcp walks every bucket of the established hash
 * table (about a millisecond even when it is nearly empty). Its holders and their
 * executables are then read from /proc (find-caller.h).
 *
 * A persistent co-process of the proxy. Protocol on stdin/stdout, one line each way:
 *   lookup:   <id> <netns-pid> <local-ip> <local-port> <remote-ip> <remote-port>\n
 *             (local = the client's end; netns-pid 0 = our own network namespace)
 *     answer: <id> <inode> <uid>\n   or   <id> - <errno>\n   (2 = ENOENT: no such socket)
 *   who:      <id> who <netns-pid> <local-ip> <local-port> <remote-ip> <remote-port>\n
 *     answer: <id> = <pid> <exe> [<ancestor> ...]\n   (paths hex-encoded, nearest first)
 *             <id> x none\n        the socket exists but no process could be confirmed
 *             <id> x ambiguous\n   held by processes running different executables
 *             <id> - <errno>\n     as for lookup (2 = no such socket)
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

#include "find-caller.h"

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

/*
 * Answers are collected in one buffer and written when a read's lines are done (or the
 * buffer fills): one write per batch of pipelined requests.
 */
static char out[1 << 20];
static size_t out_len;

/* Writes all of buf; exits when the proxy has gone away. */
static void write_all(const char *buf, size_t len) {
  for (size_t off = 0; off < len;) {
    ssize_t w = write(STDOUT_FILENO, buf + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(0);
    off += (size_t)w;
  }
}

static void flush_out(void) {
  write_all(out, out_len);
  out_len = 0;
}

static void emit(const char *text, size_t len) {
  if (out_len + len > sizeof out) flush_out();
  if (len > sizeof out) {
    write_all(text, len);
    return;
  }
  memcpy(out + out_len, text, len);
  out_len += len;
}

/* "<id> - <errno>\n": the lookup failed (2 = no such socket). */
static void emit_error(const char *id, int error) {
  char line[MAX_LINE];
  int n = snprintf(line, sizeof line, "%s - %d\n", id, error);
  emit(line, (size_t)n);
}

/* " <hex>": paths may hold any byte but NUL (spaces, newlines), so they are never sent raw. */
static void emit_hex(const char *path, size_t len) {
  static const char digits[] = "0123456789abcdef";
  char chunk[2 * 256 + 1];
  emit(" ", 1);
  for (size_t off = 0; off < len; off += 256) {
    size_t part = len - off < 256 ? len - off : 256;
    for (size_t i = 0; i < part; i++) {
      chunk[2 * i] = digits[(unsigned char)path[off + i] >> 4];
      chunk[2 * i + 1] = digits[(unsigned char)path[off + i] & 15];
    }
    emit(chunk, 2 * part);
  }
}

/* One request line of a batch, parsed and looked up; who requests carry their walk query. */
struct request {
  char id[24];
  int who;
  int error; /* errno of a failed lookup, 0 when found */
  unsigned long inode;
  unsigned uid;
  struct query *query;
};

/* Parses one line (see the protocol at the top) and looks its socket up in the kernel. */
static void parse_and_look_up(char *line, struct request *r) {
  char *fields[7];
  int count = 0;
  for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok && count < 7;
       tok = strtok_r(NULL, " ", &save))
    fields[count++] = tok;
  snprintf(r->id, sizeof r->id, "%s", count > 0 && strlen(fields[0]) < sizeof r->id ? fields[0] : "0");
  r->who = count == 7 && strcmp(fields[1], "who") == 0;
  r->query = NULL;
  char **f = r->who ? fields + 1 : fields;
  int complete = count == (r->who ? 7 : 6);
  unsigned char src[16], dst[16];
  int family = 0;
  char *end = NULL;
  long pid = complete ? strtol(f[1], &end, 10) : -1;
  int sport = complete ? parse_port(f[3]) : -1;
  int dport = complete ? parse_port(f[5]) : -1;
  if (complete && *end == 0 && pid >= 0 && pid <= INT_MAX && sport > 0 && dport > 0) {
    if (inet_pton(AF_INET, f[2], src) == 1 && inet_pton(AF_INET, f[4], dst) == 1)
      family = AF_INET;
    else if (inet_pton(AF_INET6, f[2], src) == 1 && inet_pton(AF_INET6, f[4], dst) == 1)
      family = AF_INET6;
  }
  if (family == 0) {
    r->error = EINVAL;
    return;
  }
  int diag = diag_socket_for(pid);
  if (diag < 0) {
    r->error = -diag;
    return;
  }
  r->inode = 0;
  r->uid = 0;
  r->error = lookup(diag, family, src, sport, dst, dport, &r->inode, &r->uid);
  if (diag != own_diag) close(diag);
  if (r->error == 0 && r->inode == 0) r->error = ENOENT;
}

/* An identity read once per process per batch (a client with many sockets is read once). */
struct known {
  int pid;
  int ok;
  int ancestor_count;
  size_t used;
  char *paths;
};

static struct identity scratch;

static const struct known *identity_of(struct known *known, int *known_count, int pid) {
  for (int i = 0; i < *known_count; i++)
    if (known[i].pid == pid) return &known[i];
  read_identity(pid, &scratch);
  struct known *k = &known[(*known_count)++];
  *k = (struct known){.pid = pid, .ok = scratch.ok, .ancestor_count = scratch.ancestor_count};
  k->paths = scratch.ok ? malloc(scratch.used) : NULL;
  if (k->paths) {
    memcpy(k->paths, scratch.paths, scratch.used);
    k->used = scratch.used;
  } else {
    k->ok = 0;
  }
  return k;
}

/*
 * Several processes may hold one socket (fork inheritance). Different executables →
 * ambiguous; the same executable at several depths → the holder with the fewest ancestors,
 * so nobody gains a grant from a deeper chain. A holder counts only if it still has the
 * socket on the same descriptor after its /proc files were read (else its pid may have
 * been reused meanwhile).
 */
static void answer_who(const struct request *r, struct known *known, int *known_count) {
  const struct query *q = r->query;
  const struct known *best = NULL;
  int best_pid = 0, ambiguous = q->overflow;
  for (int i = 0; i < q->holder_count && !ambiguous; i++) {
    const struct known *k = identity_of(known, known_count, q->holders[i].pid);
    if (!k->ok || !still_holds(&q->holders[i], q->inode)) continue;
    if (best && strcmp(best->paths, k->paths) != 0) ambiguous = 1;
    if (!best || k->ancestor_count < best->ancestor_count) {
      best = k;
      best_pid = q->holders[i].pid;
    }
  }
  if (ambiguous || !best) {
    char line[MAX_LINE];
    int n = snprintf(line, sizeof line, "%s x %s\n", r->id, ambiguous ? "ambiguous" : "none");
    emit(line, (size_t)n);
    return;
  }
  char head[MAX_LINE];
  int head_len = snprintf(head, sizeof head, "%s = %d", r->id, best_pid);
  emit(head, (size_t)head_len);
  size_t off = 0;
  for (int i = 0; i <= best->ancestor_count; i++) {
    size_t len = strlen(best->paths + off);
    emit_hex(best->paths + off, len);
    off += len + 1;
  }
  emit("\n", 1);
}

/*
 * Answers a batch of request lines in order: every socket looked up first, then one walk
 * of /proc for all the who requests, then the answers.
 */
static void answer_batch(char **lines, int count) {
  struct request *requests = calloc((size_t)count, sizeof *requests);
  struct query *queries = calloc((size_t)count, sizeof *queries);
  struct known *known = calloc((size_t)count * MAX_HOLDERS, sizeof *known);
  int query_count = 0, known_count = 0, walked = 0;
  if (requests && queries && known) {
    for (int i = 0; i < count; i++) {
      parse_and_look_up(lines[i], &requests[i]);
      if (!requests[i].who || requests[i].error != 0) continue;
      requests[i].query = &queries[query_count++];
      requests[i].query->inode = requests[i].inode;
      requests[i].query->uid = requests[i].uid;
    }
    walked = query_count == 0 || find_holders(queries, query_count) == 0;
  }
  for (int i = 0; i < count; i++) {
    if (!requests || !queries || !known) {
      /* Out of memory: "unavailable" (EIO), so the proxy identifies these callers itself. */
      char *space = strchr(lines[i], ' ');
      if (space) *space = 0;
      char id[24];
      snprintf(id, sizeof id, "%.23s", lines[i]);
      emit_error(id, EIO);
    } else if (requests[i].error != 0) {
      emit_error(requests[i].id, requests[i].error);
    } else if (!requests[i].who) {
      char text[MAX_LINE];
      int n = snprintf(text, sizeof text, "%s %lu %u\n", requests[i].id, requests[i].inode,
                       requests[i].uid);
      emit(text, (size_t)n);
    } else if (!walked) {
      emit_error(requests[i].id, EIO);
    } else {
      answer_who(&requests[i], known, &known_count);
    }
  }
  for (int i = 0; i < known_count; i++) free(known[i].paths);
  free(known);
  free(queries);
  free(requests);
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
  size_t have = 0;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, in + have, sizeof in - 1 - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    have += (size_t)n;
    size_t used = 0;
    char *nl;
    static char *lines[sizeof in / 2];
    int count = 0;
    while ((nl = memchr(in + used, '\n', have - used)) != NULL) {
      *nl = 0;
      char *line = in + used;
      used = (size_t)(nl - in) + 1;
      if (strlen(line) >= MAX_LINE) line[0] = 0; /* too long: answered as invalid */
      lines[count++] = line;
    }
    if (count > 0) answer_batch(lines, count);
    flush_out();
    memmove(in, in + used, have - used);
    have -= used;
    /* A line longer than the whole buffer: drop it rather than stall. */
    if (have == sizeof in - 1) have = 0;
  }
}
