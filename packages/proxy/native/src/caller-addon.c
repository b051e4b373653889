/*
 * openshell-caller.node: tells the egress proxy which process is the client end of a TCP
 * connection, inside the proxy's own process (an N-API addon using only node_api.h, so one
 * build loads on every Node with N-API 8: 20, 22, 24). The socket is found by its exact
 * 4-tuple (sock-diag.h), its holders and their executable and ancestors in /proc
 * (find-caller.h).
 *
 * In process rather than a co-process: each answer then costs no pipe round trip and no
 * second process wake-up, which under load cost more than the walk itself. A short walk (the
 * usual case: the caller is a recent holder with few descriptors) runs right away on the
 * event loop's thread, which measured faster than a thread hop on a loaded machine; a long
 * one (bursts, unknown holders, a scan of every process) on a libuv worker thread (napi
 * async work), where batches that arrive together share one walk.
 *
 * JS API: request(lines, done) on a worker thread; requestSync(lines, cost) → answers on the
 * calling thread, bounded to `cost` procfs syscalls (answering EAGAIN, 11, to what it could
 * not finish, which is then asked again with request()).
 *   lines: "<verb> <netns-pid> <local-ip> <local-port> <remote-ip> <remote-port>\n" per
 *          request; verb `who` (the caller) or `lookup` (the socket only); local = the
 *          client's end; netns-pid 0 = the proxy's own network namespace.
 *   done(answers), one per line, in order:
 *     lookup: [inode, uid]
 *     who:    [pid, exe, ancestor, ...] (nearest ancestor first), or "none" (the socket
 *             exists but no process could be confirmed), or "ambiguous" (held by processes
 *             running different executables)
 *     either: a number, the errno of a failed lookup (2 = ENOENT: no such socket; others
 *             mean "unavailable": the proxy then identifies the caller itself).
 * Lines that arrive together form one batch and share one walk of /proc.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <pthread.h>

#include "sock-diag.h"
#include "find-caller.h"

#define MAX_LINE 256
#define MAX_BATCH 65536
#define MAX_SYNC_HOLDERS 4

/* One request line, parsed and looked up; who requests carry their walk query. */
struct request {
  int who;
  int error; /* errno of a failed lookup, 0 when found */
  unsigned long inode;
  unsigned uid;
  struct query *query;
  /* The answer to a who request. */
  enum { WHO_FOUND, WHO_NONE, WHO_AMBIGUOUS } verdict;
  int pid;
  int path_count;
  char *paths; /* NUL-separated: exe, then ancestors */
};

struct batch {
  napi_async_work work;
  napi_ref done;
  char *text;
  int count;
  struct request *requests;
};

/* Batches from every Node thread that loaded us share the walk's hints and the diag socket. */
static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;

static int parse_port(const char *text) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  return (errno || *end || v < 1 || v > 65535) ? -1 : (int)v;
}

/* Parses one line (see the API above) and looks its socket up in the kernel. */
static void parse_and_look_up(char *line, struct request *r) {
  char *f[7];
  int count = 0;
  for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok && count < 7;
       tok = strtok_r(NULL, " ", &save))
    f[count++] = tok;
  r->error = EINVAL;
  if (count != 6) return;
  r->who = strcmp(f[0], "who") == 0;
  if (!r->who && strcmp(f[0], "lookup") != 0) return;
  unsigned char src[16], dst[16];
  int family = 0;
  char *end = NULL;
  long pid = strtol(f[1], &end, 10);
  int sport = parse_port(f[3]), dport = parse_port(f[5]);
  if (*end != 0 || f[1][0] == 0 || pid < 0 || pid > INT_MAX || sport < 0 || dport < 0) return;
  if (inet_pton(AF_INET, f[2], src) == 1 && inet_pton(AF_INET, f[4], dst) == 1)
    family = AF_INET;
  else if (inet_pton(AF_INET6, f[2], src) == 1 && inet_pton(AF_INET6, f[4], dst) == 1)
    family = AF_INET6;
  if (family == 0) return;
  int diag = diag_socket_for(pid);
  if (diag < 0) {
    r->error = -diag;
    return;
  }
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
static void answer_who(struct request *r, struct known *known, int *known_count) {
  const struct query *q = r->query;
  const struct known *best = NULL;
  int ambiguous = q->overflow;
  for (int i = 0; i < q->holder_count && !ambiguous; i++) {
    const struct known *k = identity_of(known, known_count, q->holders[i].pid);
    if (!k->ok || !still_holds(&q->holders[i], q->inode)) continue;
    if (best && strcmp(best->paths, k->paths) != 0) ambiguous = 1;
    if (!best || k->ancestor_count < best->ancestor_count) {
      best = k;
      r->pid = q->holders[i].pid;
    }
  }
  if (ambiguous || !best) {
    r->verdict = ambiguous ? WHO_AMBIGUOUS : WHO_NONE;
    return;
  }
  r->paths = malloc(best->used);
  /* Out of memory: "unavailable", so the proxy identifies this caller itself. */
  if (!r->paths) {
    r->error = EIO;
    return;
  }
  memcpy(r->paths, best->paths, best->used);
  r->path_count = best->ancestor_count + 1;
  r->verdict = WHO_FOUND;
}

/*
 * Answers a batch in order: every socket looked up first, then one walk of /proc for all
 * the who requests, then the answers. One batch at a time: on a worker thread (cost -1,
 * unbounded), or on the event loop's thread bounded to `cost` syscalls.
 */
static void answer_batch(struct batch *b, long cost) {
  struct query *queries = calloc((size_t)b->count, sizeof *queries);
  struct known *known = calloc((size_t)b->count * MAX_HOLDERS, sizeof *known);
  int query_count = 0, known_count = 0, walked = 0, again = 0;
  /* The event loop's thread never waits for another thread's walk: it asks again later. */
  if (cost < 0) {
    pthread_mutex_lock(&walk_lock);
  } else if (pthread_mutex_trylock(&walk_lock) != 0) {
    for (int i = 0; i < b->count; i++) b->requests[i].error = EAGAIN;
    free(known);
    free(queries);
    return;
  }
  if (queries && known) {
    char *line = b->text;
    for (int i = 0; i < b->count; i++) {
      struct request *r = &b->requests[i];
      /* request() counted the newlines, so each of the count lines is there. */
      char *nl = strchr(line, '\n');
      if (!nl) { /* a NUL inside the text: the rest is invalid */
        r->error = EINVAL;
        continue;
      }
      *nl = 0;
      if ((size_t)(nl - line) < MAX_LINE)
        parse_and_look_up(line, r);
      else
        r->error = EINVAL;
      line = nl + 1;
      if (!r->who || r->error != 0) continue;
      r->query = &queries[query_count++];
      r->query->inode = r->inode;
      r->query->uid = r->uid;
    }
    int found = query_count == 0 ? 0 : find_holders(queries, query_count, cost);
    walked = found == 0;
    again = found == -2;
  }
  for (int i = 0; i < b->count; i++) {
    struct request *r = &b->requests[i];
    if (!queries || !known || (r->who && r->error == 0 && !walked))
      r->error = again ? EAGAIN : EIO;
    /* Each holder's identity costs a dozen reads: many holders are read off the loop. */
    else if (r->who && r->error == 0 && cost >= 0 && r->query->holder_count > MAX_SYNC_HOLDERS)
      r->error = EAGAIN;
    else if (r->who && r->error == 0)
      answer_who(r, known, &known_count);
  }
  pthread_mutex_unlock(&walk_lock);
  for (int i = 0; i < known_count; i++) free(known[i].paths);
  free(known);
  free(queries);
}

static void execute(napi_env env, void *data) {
  (void)env;
  answer_batch(data, -1);
}

static void free_batch(napi_env env, struct batch *b) {
  for (int i = 0; i < b->count; i++) free(b->requests[i].paths);
  free(b->requests);
  free(b->text);
  if (b->done) napi_delete_reference(env, b->done);
  if (b->work) napi_delete_async_work(env, b->work);
  free(b);
}

static napi_value to_answer(napi_env env, const struct request *r) {
  napi_value v, item;
  if (r->error != 0) {
    napi_create_int32(env, r->error, &v);
    return v;
  }
  if (!r->who) {
    napi_create_array_with_length(env, 2, &v);
    napi_create_double(env, (double)r->inode, &item);
    napi_set_element(env, v, 0, item);
    napi_create_uint32(env, r->uid, &item);
    napi_set_element(env, v, 1, item);
    return v;
  }
  if (r->verdict != WHO_FOUND) {
    const char *word = r->verdict == WHO_AMBIGUOUS ? "ambiguous" : "none";
    napi_create_string_utf8(env, word, NAPI_AUTO_LENGTH, &v);
    return v;
  }
  napi_create_array_with_length(env, (size_t)r->path_count + 1, &v);
  napi_create_int32(env, r->pid, &item);
  napi_set_element(env, v, 0, item);
  const char *path = r->paths;
  for (int i = 0; i < r->path_count; i++) {
    size_t len = strlen(path);
    /* Invalid UTF-8 becomes U+FFFD, as in the fallback's readlinkSync(…, 'utf8'). */
    napi_create_string_utf8(env, path, len, &item);
    napi_set_element(env, v, (uint32_t)i + 1, item);
    path += len + 1;
  }
  return v;
}

static void complete(napi_env env, napi_status status, void *data) {
  struct batch *b = data;
  napi_value answers, done, global, item;
  napi_create_array_with_length(env, (size_t)b->count, &answers);
  for (int i = 0; i < b->count; i++) {
    if (status != napi_ok) {
      napi_create_int32(env, EIO, &item);
    } else {
      item = to_answer(env, &b->requests[i]);
    }
    napi_set_element(env, answers, (uint32_t)i, item);
  }
  if (napi_get_reference_value(env, b->done, &done) == napi_ok &&
      napi_get_global(env, &global) == napi_ok)
    napi_call_function(env, global, done, 1, &answers, NULL);
  free_batch(env, b);
}

/* request(lines: string, done: (answers) => void): void */
static napi_value request(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], name;
  napi_valuetype type;
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function ||
      napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "request(lines: string, done: function)");
    return NULL;
  }
  struct batch *b = calloc(1, sizeof *b);
  char *text = malloc(len + 1);
  if (!b || !text) {
    free(b);
    free(text);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  b->text = text;
  napi_get_value_string_utf8(env, argv[0], text, len + 1, &len);
  for (size_t i = 0; i < len; i++) b->count += text[i] == '\n';
  if (b->count > MAX_BATCH) b->count = MAX_BATCH;
  b->requests = calloc((size_t)(b->count ? b->count : 1), sizeof *b->requests);
  if (!b->requests || napi_create_reference(env, argv[1], 1, &b->done) != napi_ok ||
      napi_create_string_utf8(env, "openshell-caller", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, b, &b->work) != napi_ok ||
      napi_queue_async_work(env, b->work) != napi_ok) {
    free_batch(env, b);
    napi_throw_error(env, NULL, "cannot queue the caller lookup");
  }
  return NULL;
}

/*
 * requestSync(lines: string, cost: number): answers — the same batch, answered on the
 * calling thread by a walk bounded to `cost` procfs syscalls and never a scan of every
 * process; who requests it could not finish are answered EAGAIN (ask again with request()).
 */
static napi_value request_sync(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], answers, item;
  size_t len = 0;
  int64_t cost = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int64(env, argv[1], &cost) != napi_ok || cost < 0 ||
      napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "requestSync(lines: string, cost: number >= 0)");
    return NULL;
  }
  struct batch *b = calloc(1, sizeof *b);
  char *text = malloc(len + 1);
  if (!b || !text) {
    free(b);
    free(text);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  b->text = text;
  napi_get_value_string_utf8(env, argv[0], text, len + 1, &len);
  for (size_t i = 0; i < len; i++) b->count += text[i] == '\n';
  if (b->count > MAX_BATCH) b->count = MAX_BATCH;
  b->requests = calloc((size_t)(b->count ? b->count : 1), sizeof *b->requests);
  if (!b->requests) {
    free_batch(env, b);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  answer_batch(b, (long)cost);
  napi_create_array_with_length(env, (size_t)b->count, &answers);
  for (int i = 0; i < b->count; i++) {
    item = to_answer(env, &b->requests[i]);
    napi_set_element(env, answers, (uint32_t)i, item);
  }
  free_batch(env, b);
  return answers;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static const char *init_error;

static void init_process(void) { init_error = sock_diag_init(); }

NAPI_MODULE_INIT() {
  pthread_once(&init_once, init_process);
  if (init_error) {
    napi_throw_error(env, NULL, init_error);
    return NULL;
  }
  napi_value fn;
  if (napi_create_function(env, "request", NAPI_AUTO_LENGTH, request, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "request", fn) != napi_ok ||
      napi_create_function(env, "requestSync", NAPI_AUTO_LENGTH, request_sync, NULL, &fn) !=
          napi_ok ||
      napi_set_named_property(env, exports, "requestSync", fn) != napi_ok)
    return NULL;
  return exports;
}
