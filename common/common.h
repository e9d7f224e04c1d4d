/* SPDX-License-Identifier: MIT */
/*
 * common — the few helpers every module of contentd shares: the allocator
 * wrappers (out of memory aborts here and nowhere else), a growable byte
 * buffer, JSON string escaping, UTF-8 repair and hex encoding (common.c),
 * the file-system loops every writer needs (fs.c), the rules of a content
 * path (path.c), the identifiers of the data model (ids.c), the clocks
 * (clock.c), the hash function and table (hash.c), SHA-256 (sha256.c) and
 * the log (log.c).
 */
#ifndef CONTENTD_COMMON_H
#define CONTENTD_COMMON_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CD_WUR          __attribute__((warn_unused_result))
#define CD_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Allocation that never returns NULL: on exhaustion the process aborts with a
 * message.  Memory from these is released with free(). */
void *cd_xmalloc(size_t n);
void *cd_xcalloc(size_t n, size_t size);
void *cd_xrealloc(void *p, size_t n);
char *cd_xstrdup(const char *s);
char *cd_xstrndup(const char *s, size_t n);
/* Array p of *cap elements of size bytes, n of them used, with room for one
 * more: when full, its capacity doubles (from first), and the array is
 * reallocated.  Returns the array: `a = cd_grow(a, n, &cap, 16, sizeof *a)`. */
static inline void *cd_grow(void *p, size_t n, size_t *cap, size_t first, size_t size)
{
    if (n < *cap)
        return p;
    *cap = *cap ? 2 * *cap : first;
    return cd_xrealloc(p, *cap * size);
}

/* A growable byte buffer, always NUL-terminated after the first append.
 * The buffer owns data; release it with cd_buf_free() or take it with
 * cd_buf_steal() (then the caller frees it with free()). */
typedef struct cd_buf {
    char *data;
    size_t len;
    size_t cap;
} cd_buf;

#define CD_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void cd_buf_grow(cd_buf *b, size_t extra);
void cd_buf_append(cd_buf *b, const void *p, size_t n);
void cd_buf_puts(cd_buf *b, const char *s);
void cd_buf_putc(cd_buf *b, char c);
void cd_buf_printf(cd_buf *b, const char *fmt, ...) CD_PRINTF(2, 3);
void cd_buf_vprintf(cd_buf *b, const char *fmt, va_list ap);
void cd_buf_reset(cd_buf *b);
void cd_buf_free(cd_buf *b);
/* Returns the NUL-terminated contents (never NULL) and leaves b empty;
 * the caller frees the result with free(). */
char *cd_buf_steal(cd_buf *b, size_t *len);
/* Appends the rest of f to b, stopping once b holds more than max bytes
 * (0: no bound).  Returns 0 when all of it is in b, 1 when b went past max
 * (what it holds then is cut anywhere), -1 on a read error.  The caller
 * still owns and closes f. */
int cd_buf_read(cd_buf *b, FILE *f, size_t max) CD_WUR;

/* An error for the caller to show: a status code and one sentence.  code
 * is a value of the status enum of the module whose function filled it
 * (the status that function returned), never a lower module's: a module
 * passing a lower module's failure up translates the code and keeps the
 * sentence (docs/architecture.md, "Errors at each boundary"). */
typedef struct cd_err {
    int code;
    char msg[512];
} cd_err;

/* Fills e (if not NULL) and returns code, so `return cd_err_set(...)`. */
int cd_err_set(cd_err *e, int code, const char *fmt, ...) CD_PRINTF(3, 4);

/* Writes the lower-case hex of the n bytes at d into out (2n+1 bytes, NUL
 * included): how digests are named everywhere. */
void cd_hex(const unsigned char *d, size_t n, char *out);

/* A decimal int64 with nothing around it (no sign but '-', no space). */
bool cd_parse_i64(const char *s, int64_t *out);

/* Appends s (n bytes of valid UTF-8) as a quoted JSON string. */
void cd_json_str(cd_buf *b, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if s[0..n) does not
 * start with one. */
size_t cd_utf8_valid_len(const unsigned char *s, size_t n);
/* True when s[0..n) is valid UTF-8 with no NUL byte. */
bool cd_utf8_valid(const char *s, size_t n);
/* Appends s[0..n) to b with every invalid UTF-8 sequence and NUL byte
 * replaced by U+FFFD. */
void cd_utf8_repair(cd_buf *b, const char *s, size_t n);

/* True when p (left bytes remain) starts with a C0 or C1 control character
 * (UTF-8 encoded) or DEL. */
bool cd_is_control(const unsigned char *p, size_t left);

/* The longest content path, in bytes (CONTRACT "Data model"). */
#define CD_PATH_MAX 1024

/* The limits of one version, which the server enforces on a commit and
 * the client checks before it uploads anything: the number of files, and
 * the size of the commit's JSON body ({"base_version":N,"files":[…]},
 * compact).  100,000 files with paths of up to ~500 bytes fit; the body
 * limit is what bounds the memory one commit takes on the server. */
#define CD_VERSION_FILES_MAX 100000
#define CD_COMMIT_BODY_MAX   (64u << 20)

/* What makes a content path invalid: the first problem found, checked in
 * this order. */
typedef enum cd_path_problem {
    CD_PATH_OK = 0,
    CD_PATH_EMPTY,
    CD_PATH_TOO_LONG, /* more than CD_PATH_MAX bytes */
    CD_PATH_NOT_UTF8, /* or holds a NUL byte */
    CD_PATH_ABSOLUTE, /* starts with '/' */
    CD_PATH_BACKSLASH,
    CD_PATH_CONTROL, /* a C0 or C1 control character, or DEL */
    CD_PATH_EMPTY_SEGMENT,
    CD_PATH_DOT_SEGMENT, /* a "." or ".." segment */
} cd_path_problem;

/* Checks path[0..n) against the CONTRACT's rules for a content path:
 * relative, '/'-separated, valid UTF-8, at most CD_PATH_MAX bytes, no empty,
 * "." or ".." segment, no backslash and no control character. */
cd_path_problem cd_path_check(const char *path, size_t n);

/* Why path[0..n) is not an acceptable content path, as a phrase ("the path
 * holds a backslash"; by_name: "the name holds…" for a problem in its
 * characters, when a file is reported by its name); NULL when it is. */
const char *cd_path_why(const char *path, size_t n, bool by_name);

/* Appends s to b with invalid UTF-8 and control characters shown as \xNN,
 * so that any file name prints on one line; everything else, a backslash
 * and every other character of valid UTF-8 included, is shown as it is. */
void cd_path_printable(cd_buf *b, const char *s);

/* True when path names a markdown document (ends in ".md", any case). */
bool cd_path_is_markdown(const char *path);

/* True when the resolved path p is root or lies below it: root is root_len
 * bytes of a resolved folder path (realpath(), no trailing '/').  What
 * decides whether a symlink of a content folder may be followed. */
bool cd_path_inside(const char *p, const char *root, size_t root_len);

/* mkdir -p: creates dir and every missing folder on the way to it, each with
 * mode (less the umask); folders that exist already are fine.  Returns 0, or
 * -1 with errno set and, when failed_len is not NULL, the length of the
 * prefix of dir that could not be created in *failed_len.  An empty dir
 * fails with ENOENT. */
int cd_mkdir_p(const char *dir, mode_t mode, size_t *failed_len) CD_WUR;

/* Writes all n bytes at p to fd, going on after short writes and EINTR.
 * Returns 0, or -1 with errno set (some bytes may have been written). */
int cd_write_all(int fd, const void *p, size_t n) CD_WUR;

/* ---- identifiers (ids.c) --------------------------------------------- */

/* Buffer sizes, NUL included, of a kind, an item name and a SHA-256 in hex. */
#define CD_KIND_MAX    16
#define CD_NAME_MAX    64
#define CD_SHA256_HEX  65
#define CD_KINDS_COUNT 5
/* The kinds of the contract, in its order, and the same as one phrase. */
extern const char *const cd_kinds[CD_KINDS_COUNT];
#define CD_KINDS_TEXT "tutorial, challenge, course, skill-path or roadmap"
#define CD_NAME_RULE  "lower-case letters, digits and '-', 1 to 63 of them, not starting with '-'"

/* True when kind is one of cd_kinds. */
bool cd_kind_valid(const char *kind);
/* True when name matches [a-z0-9][a-z0-9-]{0,62}. */
bool cd_name_valid(const char *name);
/* True when s is 64 lower-case hex digits (a blob's name). */
bool cd_sha_valid(const char *s);

/* ---- clocks (clock.c) ------------------------------------------------ */

/* The monotonic clock, for intervals, deadlines and timed waits. */
int64_t cd_mono_ns(void);
int64_t cd_mono_ms(void);
/* The wall clock, milliseconds since the epoch (UTC): time stamps only. */
int64_t cd_now_ms(void);
/* Writes ms as "2024-05-01T12:00:00.123Z" into out. */
void cd_time_rfc3339(int64_t ms, char out[32]);
/* Initialises cv so that cd_cond_wait_until() measures the monotonic clock. */
void cd_cond_init_mono(pthread_cond_t *cv);
/* Waits on cv (made by cd_cond_init_mono(), mu held) until it is signalled
 * or cd_mono_ms() reaches deadline_ms; false when the deadline passed. */
bool cd_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ms);

/* ---- workers (common.c) ---------------------------------------------- */

#define CD_WORKERS_MAX 64
/* Runs fn(arg) on n threads at once (at most CD_WORKERS_MAX), the calling
 * thread among them, and returns once every one has returned.  Fewer run
 * when a thread cannot be started, so fn must take its work from arg's
 * shared state until none is left. */
void cd_run_workers(unsigned n, void *(*fn)(void *), void *arg);

/* ---- hashing (hash.c) ------------------------------------------------ */

/* FNV-1a: cd_hash_more(CD_HASH_SEED, p, n) hashes p[0..n); chain calls to
 * hash several pieces as one key. */
#define CD_HASH_SEED 14695981039346656037ull
uint64_t cd_hash_more(uint64_t h, const void *p, size_t n);
uint64_t cd_hash_str(const char *s);

/* An intrusive chained hash table: the caller embeds a cd_hnode in each
 * entry, owns the entries, and compares keys while walking a chain:
 *   for (cd_hnode *n = cd_htab_first(t, h); n; n = cd_htab_next(n)) …
 * cd_htab_free() releases the bucket array only. */
typedef struct cd_hnode {
    struct cd_hnode *next;
    uint64_t hash;
} cd_hnode;
typedef struct cd_htab {
    cd_hnode **b;
    size_t nb, n;
} cd_htab;
#define CD_HTAB_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }
#define CD_CONTAINER_OF(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

/* An intrusive doubly linked list (an LRU's order, say): the caller embeds
 * a cd_lnode in each entry and owns the entries; CD_CONTAINER_OF() finds
 * an entry from its node.  A node is in one list at a time. */
typedef struct cd_lnode {
    struct cd_lnode *prev, *next;
} cd_lnode;
typedef struct cd_list {
    cd_lnode *head, *tail;
} cd_list;
void cd_list_push_front(cd_list *l, cd_lnode *n);
void cd_list_push_back(cd_list *l, cd_lnode *n);
/* Takes n (which is in l) out of l. */
void cd_list_remove(cd_list *l, cd_lnode *n);

void cd_htab_add(cd_htab *t, cd_hnode *n, uint64_t hash);
/* The first node of hash `hash`, then the next one of the same hash. */
cd_hnode *cd_htab_first(const cd_htab *t, uint64_t hash);
cd_hnode *cd_htab_next(const cd_hnode *n);
void cd_htab_del(cd_htab *t, cd_hnode *n);
/* Some node of the table (NULL when empty): to drain it. */
cd_hnode *cd_htab_any(const cd_htab *t);
/* Every node in turn: start with *pos = 0 and n = NULL, then pass the node
 * returned.  The node returned may be deleted once the one after it has
 * been asked for; nothing may be added during the walk. */
cd_hnode *cd_htab_walk(const cd_htab *t, size_t *pos, const cd_hnode *n);
void cd_htab_free(cd_htab *t);

/* ---- SHA-256 (sha256.c) ---------------------------------------------- */

/* A streaming digest: new, update any number of times, then final (which
 * writes the lower-case hex and frees c) or free (which drops it). */
typedef struct cd_sha256 cd_sha256;
cd_sha256 *cd_sha256_new(void);
void cd_sha256_update(cd_sha256 *c, const void *p, size_t n);
void cd_sha256_final(cd_sha256 *c, char out[CD_SHA256_HEX]);
void cd_sha256_free(cd_sha256 *c);
/* The hex SHA-256 of p[0..n). */
void cd_sha256_hex(const void *p, size_t n, char out[CD_SHA256_HEX]);
/* The hex SHA-256 of everything left to read on fd, and its length in
 * *size (may be NULL).  Returns 0, or -1 with errno set on a read error. */
int cd_sha256_fd(int fd, char out[CD_SHA256_HEX], int64_t *size) CD_WUR;

/* ---- latency histograms (histo.c) ----------------------------------- */

/* Buckets of cd_histo, upper bounds in seconds; one more bucket is +Inf. */
#define CD_HISTO_BUCKETS 16
extern const double cd_histo_bounds_s[CD_HISTO_BUCKETS];
/* A histogram of durations; zero-initialised storage is an empty one. */
typedef struct cd_histo {
    atomic_uint_fast64_t b[CD_HISTO_BUCKETS + 1];
    atomic_uint_fast64_t sum_ns;
} cd_histo;
void cd_histo_observe(cd_histo *h, int64_t ns);
bool cd_histo_empty(const cd_histo *h);
/* Appends NAME_bucket{LABELS,le=…}, NAME_sum and NAME_count lines. */
void cd_histo_text(cd_buf *b, const char *name, const char *labels, const cd_histo *h);

/* ---- the door of a store (door.c) ------------------------------------ */

/* What the one door of a store (catalog.c, blobstore.c) keeps of the calls
 * through it, for /metrics and the logs: the backend's name, the names of
 * its operations and one latency histogram per operation.  The store holds
 * it; the metrics endpoint only writes it out. */
#define CD_DOOR_OPS_MAX 32
typedef struct cd_door {
    const char *backend;         /* "sqlite", "fs", …: static */
    const char *const *op_names; /* n_ops of them, static */
    unsigned n_ops;
    cd_histo latency[CD_DOOR_OPS_MAX];
} cd_door;
/* For an X-macro list of operations: each one's name as a string. */
#define CD_X_NAME(n) #n,
/* Sets up d, histograms empty, for backend and the operations op_names[0..
 * n_ops) (at most CD_DOOR_OPS_MAX); keeps the pointers: static strings. */
void cd_door_init(cd_door *d, const char *backend, const char *const *op_names, unsigned n_ops);
/* The name of operation op: its label in /metrics; "unknown" past the list. */
const char *cd_door_op_name(const cd_door *d, unsigned op);
/* The latency histogram of op's calls since d was set up; NULL past the
 * list. */
const cd_histo *cd_door_latency(const cd_door *d, unsigned op);
/* Evaluates call, the backend's work for operation op of door d, observes
 * its duration in op's histogram and yields its value, of call's type. */
#define CD_DOOR_CALL(d, op, call)                                                                  \
    __extension__({                                                                                \
        int64_t t0_ = cd_mono_ns();                                                                \
        __typeof__(call) r_ = (call);                                                              \
        cd_histo_observe(&(d)->latency[(op)], cd_mono_ns() - t0_);                                 \
        r_;                                                                                        \
    })
/* Appends the histogram `metric` of d in Prometheus's text format: its HELP
 * and TYPE lines, then one series per operation labelled op="NAME", empty
 * ones included. */
void cd_door_text(cd_buf *b, const char *metric, const char *help, const cd_door *d);

/* ---- the log (log.c) ------------------------------------------------- */

/* Dies here, as kill -9 would, when the environment variable
 * CONTENTD_TEST_CRASH_AT is `name` (common/crash.c): the crash tests' way
 * to stop a commit between two of its steps.  A no-op otherwise. */
void cd_crash_point(const char *name);

/* One line on stderr: `ts=… level=… mod=… ` followed by fmt (key=value
 * pairs).  Values that may hold spaces go through cd_log_kv(). */
void cd_log(const char *level, const char *mod, const char *fmt, ...) CD_PRINTF(3, 4);
void cd_log_v(const char *level, const char *mod, const char *fmt, va_list ap) CD_PRINTF(3, 0);
/* Whether "debug" lines are written (off at start). */
void cd_log_set_debug(bool on);
/* Appends ` key=value` to b, quoting and escaping value when needed. */
void cd_log_kv(cd_buf *b, const char *key, const char *value);

#endif
