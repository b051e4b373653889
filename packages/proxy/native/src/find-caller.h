/*
 * find-caller.h: socket inodes → the processes holding them → their executable and
 * ancestors, for the addon's "who" requests. Included once, by caller-addon.c (one
 * translation unit).
 *
 * The same rules as src/caller/find-socket-holders.ts and read-process-identity.ts (the
 * fallback when the addon is unavailable); the resolver's tests run both. In C because
 * every step is a procfs syscall: on the proxy's hosts one readlink through Node costs
 * ~10 µs and a /proc/<pid>/stat read ~60 µs, against ~4 and ~10 µs from C, and a caller
 * lookup makes 40 to a hundred or more of them.
 *
 * Requests that arrive together form one batch and share one walk (a burst of 1,000
 * connections from one client reads its 1,000 descriptors once, not 1,000 times).
 * Nothing is cached between batches except hints that only decide where to look first
 * (recent holders, and the descriptor each last held a wanted socket on) or what not to
 * look at (processes whose descriptors we may not read, keyed by pid and start time so a
 * reused pid is looked at again). Every answer is
 * re-derived from /proc: a "pid → identity" cache could be fooled by pid reuse, by an exec
 * in the same pid, by an ancestor's exec or by reparenting, and checking all of those
 * costs the same reads as not caching.
 */
#include <ctype.h>
#include <dirent.h>

#define MAX_RECENT 32
#define MAX_RELATIVES 256
#define MAX_HOLDERS 64
#define MAX_ANCESTORS 64
#define MAX_UNREADABLE 128
#define MAX_TASKS 1024
#define MAX_UIDS 64

struct holder {
  int pid;
  int fd;
};

/* One "who" request: the socket the kernel found, and who holds it. */
struct query {
  unsigned long inode;
  unsigned uid;
  int holder_count;
  /* More than MAX_HOLDERS holders: treated as ambiguous. */
  int overflow;
  struct holder holders[MAX_HOLDERS];
};

struct walk {
  struct query **by_inode; /* sorted by inode */
  int count;
  int found; /* queries with at least one holder */
  unsigned uids[MAX_UIDS];
  int uid_count;
  /* The proxy (this process): owns two sockets per tunnel and is looked at last. */
  int proxy;
  /* Looked at already (recent and relatives; a walk of everyone is not listed). */
  int scanned[MAX_RECENT + MAX_RELATIVES + 2];
  int scanned_count;
  /* Holders whose relatives are still to be looked at. */
  int *frontier;
  int frontier_count, frontier_size;
  /* Only add holders to queries that have none (the proxy's own process, last). */
  int only_unresolved;
  /*
   * A walk on the event loop's thread is bounded: `cost_left` procfs syscalls, and never
   * a scan of every process. Past that it stops (`exhausted`) and the batch is asked
   * again on a worker thread, where the walk is unbounded. -1: unbounded.
   */
  long cost_left;
  int exhausted;
};

/* Counts `syscalls` against a bounded walk; false once it is over budget. */
static int charge(struct walk *w, long syscalls) {
  if (w->cost_left < 0) return 1;
  w->cost_left -= syscalls;
  if (w->cost_left < 0) {
    w->cost_left = 0;
    w->exhausted = 1;
  }
  return !w->exhausted;
}

static int recent[MAX_RECENT];
static int recent_count;
/*
 * The descriptor on which a process last held a wanted socket: a client that closes one
 * connection and opens the next usually gets the same descriptor number back. Only where
 * to look first; what is there is read from /proc like everything else.
 */
static struct {
  int pid;
  int fd;
} fd_hints[MAX_RECENT];
static int fd_hint_next;

static int fd_hint_of(int pid) {
  for (int i = 0; i < MAX_RECENT; i++)
    if (fd_hints[i].pid == pid && pid > 0) return fd_hints[i].fd;
  return -1;
}

static void remember_fd(int pid, int fd) {
  for (int i = 0; i < MAX_RECENT; i++) {
    if (fd_hints[i].pid == pid) {
      fd_hints[i].fd = fd;
      return;
    }
  }
  fd_hints[fd_hint_next].pid = pid;
  fd_hints[fd_hint_next].fd = fd;
  fd_hint_next = (fd_hint_next + 1) % MAX_RECENT;
}
static struct {
  int pid;
  unsigned long long start;
} unreadable[MAX_UNREADABLE];
static int unreadable_next;

/* Reads a small procfs file into buf (NUL-terminated); returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  return n;
}

/*
 * Parent and start time from /proc/<pid>/stat. comm (field 2) may contain spaces and
 * parentheses, so parsing starts after the last ')'.
 */
static int read_stat(int pid, int *ppid, unsigned long long *start) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if (read_small(path, buf, sizeof buf) < 0) return -1;
  char *close_paren = strrchr(buf, ')');
  if (!close_paren) return -1;
  /* After ") ": state(3) ppid(4) ... starttime(22). */
  char *p = close_paren + 2;
  int field = 3;
  long long parent = -1;
  unsigned long long started = 0;
  while (*p && field <= 22) {
    if (field == 4) parent = strtoll(p, NULL, 10);
    if (field == 22) started = strtoull(p, NULL, 10);
    char *space = strchr(p, ' ');
    if (!space) break;
    p = space + 1;
    field++;
  }
  if (parent < 0 || field <= 22) return -1;
  *ppid = (int)parent;
  *start = started;
  return 0;
}

/* readlink into buf (NUL-terminated); -1 when gone, unreadable or too long to be exact. */
static ssize_t read_link(const char *path, char *buf, size_t size) {
  ssize_t n = readlink(path, buf, size - 1);
  if (n < 0 || (size_t)n >= size - 1) return -1;
  buf[n] = 0;
  return n;
}

static int is_unreadable(int pid) {
  for (int i = 0; i < MAX_UNREADABLE; i++) {
    if (unreadable[i].pid != pid) continue;
    int ppid;
    unsigned long long start;
    return read_stat(pid, &ppid, &start) == 0 && start == unreadable[i].start;
  }
  return 0;
}

static int compare_inode(const void *a, const void *b) {
  unsigned long x = (*(struct query *const *)a)->inode, y = (*(struct query *const *)b)->inode;
  return x < y ? -1 : x > y;
}

/* Index of the first query with `inode` (or where it would be). */
static int first_with_inode(const struct walk *w, unsigned long inode) {
  int lo = 0, hi = w->count;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (w->by_inode[mid]->inode < inode)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void push_frontier(struct walk *w, int pid) {
  if (w->frontier_count == w->frontier_size) {
    int size = w->frontier_size ? 2 * w->frontier_size : 64;
    int *grown = realloc(w->frontier, sizeof(int) * (size_t)size);
    /* Out of memory: this holder's relatives are not looked at (answered as found so far). */
    if (!grown) return;
    w->frontier = grown;
    w->frontier_size = size;
  }
  w->frontier[w->frontier_count++] = pid;
}

/* Records pid/fd as a holder of every query for `inode`; returns 1 if any was wanted. */
static int add_holder(struct walk *w, unsigned long inode, int pid, int fd) {
  int added = 0;
  for (int i = first_with_inode(w, inode); i < w->count && w->by_inode[i]->inode == inode; i++) {
    struct query *q = w->by_inode[i];
    if (w->only_unresolved && q->holder_count > 0) continue;
    int seen = 0;
    for (int h = 0; h < q->holder_count && !seen; h++)
      seen = q->holders[h].pid == pid && q->holders[h].fd == fd;
    if (seen) continue;
    if (q->holder_count == 0) w->found++;
    if (q->holder_count < MAX_HOLDERS)
      q->holders[q->holder_count++] = (struct holder){pid, fd};
    else
      q->overflow = 1;
    added = 1;
  }
  return added;
}

static int wanted_uid(const struct walk *w, unsigned uid) {
  for (int i = 0; i < w->uid_count; i++)
    if (w->uids[i] == uid) return 1;
  return 0;
}

/* The inode of a "socket:[<inode>]" link (n bytes in link, NUL-terminated); 0 if none. */
static unsigned long socket_inode(char *link, ssize_t n) {
  if (n < 9 || memcmp(link, "socket:[", 8) != 0 || link[n - 1] != ']') return 0;
  link[n - 1] = 0;
  return strtoul(link + 8, NULL, 10);
}

/*
 * With one socket wanted, the descriptor hint: when it holds that socket, this process is
 * a holder and its other descriptors cannot change the answer (holders count by process),
 * so one readlink replaces the whole scan. Returns 1 when it did.
 */
static int found_at_hint(struct walk *w, int pid) {
  int fd = fd_hint_of(pid);
  if (w->count != 1 || fd < 0 || !charge(w, 1)) return 0;
  char path[64], link[64];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
  ssize_t n = readlink(path, link, sizeof link - 1);
  if (n < 0) return 0;
  link[n] = 0;
  unsigned long inode = socket_inode(link, n);
  if (inode == 0 || inode != w->by_inode[0]->inode || !add_holder(w, inode, pid, fd)) return 0;
  push_frontier(w, pid);
  return 1;
}

/*
 * Looks through pid's descriptors for the wanted sockets. Processes of other uids are
 * skipped: a socket belongs to its creator's uid (sock_diag's idiag_uid), and each sandbox
 * runs as its own host uid. A denied readlink (another user namespace's init) is
 * remembered, since every denied readlink is slow on some kernels.
 */
static void scan_process(struct walk *w, int pid) {
  char path[64];
  struct stat st;
  if (!charge(w, 4)) return;
  snprintf(path, sizeof path, "/proc/%d", pid);
  if (stat(path, &st) != 0 || !wanted_uid(w, st.st_uid)) return;
  if (found_at_hint(w, pid)) return;
  snprintf(path, sizeof path, "/proc/%d/fd", pid);
  DIR *dir = opendir(path);
  if (!dir) return;
  int dfd = dirfd(dir), holds = 0;
  char link[64];
  struct dirent *e;
  while ((e = readdir(dir)) != NULL && !w->exhausted) {
    if (!isdigit((unsigned char)e->d_name[0]) || !charge(w, 1)) continue;
    ssize_t n = readlinkat(dfd, e->d_name, link, sizeof link - 1);
    if (n < 0 && errno == EACCES) {
      int ppid;
      unsigned long long start;
      if (read_stat(pid, &ppid, &start) == 0) {
        unreadable[unreadable_next].pid = pid;
        unreadable[unreadable_next].start = start;
        unreadable_next = (unreadable_next + 1) % MAX_UNREADABLE;
      }
      break;
    }
    unsigned long inode = n < 0 ? 0 : socket_inode(link, n);
    if (inode == 0 || !add_holder(w, inode, pid, atoi(e->d_name))) continue;
    holds = 1;
    remember_fd(pid, atoi(e->d_name));
    /* One socket wanted and this process holds it: its other descriptors change nothing. */
    if (w->count == 1) break;
  }
  closedir(dir);
  if (holds) push_frontier(w, pid);
}

static void scan_listed(struct walk *w, int pid) {
  if (pid <= 0 || pid == w->proxy) return;
  for (int i = 0; i < w->scanned_count; i++)
    if (w->scanned[i] == pid) return;
  if (w->scanned_count < (int)(sizeof w->scanned / sizeof w->scanned[0]))
    w->scanned[w->scanned_count++] = pid;
  scan_process(w, pid);
}

/* Every process but the proxy and those already scanned, in /proc order, until all found. */
static void scan_everyone(struct walk *w) {
  if (w->cost_left >= 0) {
    w->exhausted = 1;
    return;
  }
  DIR *proc = opendir("/proc");
  if (!proc) return;
  struct dirent *e;
  while ((e = readdir(proc)) != NULL && w->found < w->count) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    int pid = atoi(e->d_name), seen = pid == w->proxy;
    for (int i = 0; i < w->scanned_count && !seen; i++) seen = w->scanned[i] == pid;
    if (seen || is_unreadable(pid)) continue;
    scan_process(w, pid);
  }
  closedir(proc);
}

/*
 * Parent and children (of every thread) of each holder, repeatedly: a descriptor shared by
 * fork inheritance lives there, so a socket also held by a forked child running another
 * binary is seen and the caller reported as ambiguous. Bounded by MAX_RELATIVES scans.
 */
static void scan_relatives(struct walk *w) {
  int budget = MAX_RELATIVES;
  for (int done = 0; done < w->frontier_count && budget > 0 && charge(w, 7); done++) {
    int pid = w->frontier[done], ppid;
    unsigned long long start;
    if (read_stat(pid, &ppid, &start) == 0 && ppid > 0) {
      scan_listed(w, ppid);
      budget--;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *tasks = opendir(path);
    if (!tasks) continue;
    struct dirent *t;
    int task_count = 0;
    while ((t = readdir(tasks)) != NULL && budget > 0 && task_count++ < MAX_TASKS) {
      if (!isdigit((unsigned char)t->d_name[0]) || !charge(w, 3)) continue;
      char children_path[96], buf[4096];
      snprintf(children_path, sizeof children_path, "/proc/%d/task/%d/children", pid,
               atoi(t->d_name));
      /* Gone, or a kernel without CONFIG_PROC_CHILDREN: the parent is still checked. */
      if (read_small(children_path, buf, sizeof buf) < 0) continue;
      for (char *save = NULL, *tok = strtok_r(buf, " \n", &save); tok && budget > 0;
           tok = strtok_r(NULL, " \n", &save)) {
        scan_listed(w, atoi(tok));
        budget--;
      }
    }
    closedir(tasks);
  }
}

static void remember_holders(const struct walk *w) {
  int next[MAX_RECENT], count = 0;
  for (int i = 0; i < w->frontier_count + recent_count && count < MAX_RECENT; i++) {
    int pid = i < w->frontier_count ? w->frontier[i] : recent[i - w->frontier_count];
    int seen = pid == w->proxy;
    for (int j = 0; j < count && !seen; j++) seen = next[j] == pid;
    if (!seen) next[count++] = pid;
  }
  memcpy(recent, next, sizeof(int) * (size_t)count);
  recent_count = count;
}

/*
 * Fills each query's holders: recent holders first, then everyone until every socket has
 * a holder; then their relatives; the proxy's own process last, and only for sockets
 * nobody else holds (a client inside the proxy's process, as in tests). `cost`: the
 * syscall budget of a bounded walk, -1 for none. Returns -1 when out of memory (the batch
 * is then answered "unavailable"), -2 when the budget ran out (holders are incomplete and
 * must not be used: the batch is asked again, unbounded).
 */
static int find_holders(struct query *queries, int count, long cost) {
  struct walk w = {.count = count, .proxy = (int)getpid(), .cost_left = cost};
  w.by_inode = malloc(sizeof(struct query *) * (size_t)(count ? count : 1));
  if (!w.by_inode) return -1;
  for (int i = 0; i < count; i++) {
    w.by_inode[i] = &queries[i];
    if (!wanted_uid(&w, queries[i].uid) && w.uid_count < MAX_UIDS)
      w.uids[w.uid_count++] = queries[i].uid;
  }
  qsort(w.by_inode, (size_t)count, sizeof *w.by_inode, compare_inode);
  for (int i = 0; i < recent_count && w.found < count; i++) scan_listed(&w, recent[i]);
  if (w.found < count) scan_everyone(&w);
  scan_relatives(&w);
  if (w.found < count && !w.exhausted) {
    w.only_unresolved = 1;
    scan_process(&w, w.proxy);
  }
  if (!w.exhausted) remember_holders(&w);
  free(w.by_inode);
  free(w.frontier);
  return w.exhausted ? -2 : 0;
}

/* One candidate caller: exe and ancestors (paths NUL-separated in `paths`). */
struct identity {
  int ok;
  int ancestor_count;
  size_t used;
  char paths[(MAX_ANCESTORS + 1) * PATH_MAX];
};

/* `/proc/<pid>/exe` without the " (deleted)" suffix the kernel adds for a replaced binary. */
static ssize_t read_exe(int pid, char *buf, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/exe", pid);
  ssize_t n = read_link(path, buf, size);
  static const char deleted[] = " (deleted)";
  const size_t suffix = sizeof deleted - 1;
  if (n > (ssize_t)suffix && memcmp(buf + n - suffix, deleted, suffix) == 0) {
    n -= (ssize_t)suffix;
    buf[n] = 0;
  }
  return n;
}

/*
 * Real uid (first field of "Uid:") and parent (PPid:) from one read of /proc/<pid>/status,
 * the same values the fallback reads from status and stat. -1 when gone.
 */
static int read_status(int pid, long long *uid, int *ppid) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  if (read_small(path, buf, sizeof buf) < 0) return -1;
  const char *uid_line = strstr(buf, "\nUid:");
  const char *ppid_line = strstr(buf, "\nPPid:");
  if (!uid_line || !ppid_line) return -1;
  *uid = strtoll(uid_line + 5, NULL, 10);
  *ppid = (int)strtol(ppid_line + 6, NULL, 10);
  return 0;
}

/* "" when unreadable, so two unreadable namespaces compare equal as in the fallback. */
static void read_pid_ns(int pid, char *buf, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
  if (read_link(path, buf, size) < 0) buf[0] = 0;
}

/*
 * The ancestor walk stops at the caller's PID-namespace boundary and at the first ancestor
 * of another real uid (see read-process-identity.ts: the sandbox's supervisors are never
 * ancestors a policy could match). The command line is never read.
 */
static void read_identity(int pid, struct identity *id) {
  id->ok = 0;
  id->ancestor_count = 0;
  id->used = 0;
  ssize_t n = read_exe(pid, id->paths, PATH_MAX);
  if (n < 0) return;
  id->used = (size_t)n + 1;
  char ns[64], other_ns[64];
  read_pid_ns(pid, ns, sizeof ns);
  long long uid, other_uid;
  int current;
  if (read_status(pid, &uid, &current) != 0) return;
  while (current > 1 && id->ancestor_count < MAX_ANCESTORS) {
    read_pid_ns(current, other_ns, sizeof other_ns);
    if (strcmp(ns, other_ns) != 0) break;
    int parent;
    if (read_status(current, &other_uid, &parent) != 0 || other_uid != uid) break;
    ssize_t m = read_exe(current, id->paths + id->used, PATH_MAX);
    if (m < 0) break;
    id->used += (size_t)m + 1;
    id->ancestor_count++;
    current = parent;
  }
  id->ok = 1;
}

/* True while pid still has the socket on the same descriptor (else the pid may be reused). */
static int still_holds(const struct holder *h, unsigned long inode) {
  char path[64], link[64], want[48];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", h->pid, h->fd);
  snprintf(want, sizeof want, "socket:[%lu]", inode);
  return read_link(path, link, sizeof link) >= 0 && strcmp(link, want) == 0;
}
