/*
 * sock-diag.h: finds the client end of a TCP connection by its exact 4-tuple with
 * NETLINK_SOCK_DIAG (sock_diag(7), inet_diag_req_v2 without NLM_F_DUMP): the kernel answers
 * from a hash lookup in microseconds, where reading /proc/net/tcp walks every bucket of the
 * established hash table (about a millisecond even when it is nearly empty). Included once,
 * by caller-addon.c (one translation unit).
 *
 * Runs on a libuv worker thread inside the proxy. Callers serialise batches (caller-addon.c
 * holds a mutex), so the sequence number and the shared socket need no further locking.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int own_netns = -1;
static int own_diag = -1;
static uint32_t seq;

static int open_diag_socket(void) {
  return socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

/*
 * A netlink socket belongs to the network namespace it was created in, so for a sandbox
 * this thread enters its namespace, creates one, and comes straight back (setns(2) with
 * CLONE_NEWNET changes only the calling thread, and is allowed in a multithreaded process).
 * Not cached: a cached socket would pin the namespace of a deleted sandbox, and setns costs
 * microseconds.
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
    /*
     * This is a libuv worker thread: left in the sandbox's namespace it would run the
     * proxy's later getaddrinfo and connect work there. Returning to a namespace we hold
     * open cannot fail short of a kernel bug; if it does, stop the proxy (fail closed).
     */
    if (setns(own_netns, CLONE_NEWNET) != 0) {
      fputs("openshell-proxy: cannot return to the proxy's network namespace\n", stderr);
      abort();
    }
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

/*
 * Opens the proxy's own namespace handle and diag socket and runs the self test. Returns
 * NULL when ready, else why not (the proxy then identifies callers from /proc itself).
 */
static const char *sock_diag_init(void) {
  own_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  own_diag = open_diag_socket();
  if (own_netns < 0 || own_diag < 0) return "cannot open a NETLINK_SOCK_DIAG socket";
  if (!self_test())
    return "the kernel did not find a loopback socket by its 4-tuple (no inet_diag support?)";
  return NULL;
}
