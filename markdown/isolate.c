/* SPDX-License-Identifier: MIT */
/*
 * Isolated rendering: a pool of worker processes, each the same binary
 * started with posix_spawn() in its hidden worker mode (MD_WORKER_ARG), so
 * that a document that crashes the renderer, runs past the time budget or
 * exhausts the memory budget costs only that document.
 *
 * One document per request over a socket pair (the worker's stdin):
 *
 *   request   u32 flags, u64 length, the markdown bytes
 *   reply     u64 length, then: i32 status, i32 line, and the strings
 *             (u64 length + bytes) message, json, then u64 toc_at, u64
 *             toc_len (md_result), then u32 n and n pairs of data field
 *             key and value
 *
 * The parent enforces a wall-clock deadline on the whole exchange and
 * kills the worker when it passes; the worker's address space is limited
 * with prlimit(RLIMIT_AS) right after it starts, so an allocation past the
 * budget fails there (and the allocator's abort ends the worker).  A worker
 * that died is replaced when it is next needed.  A worker exits at end of
 * file on its socket (when the server itself is gone); md_pool_free()
 * kills them.
 */
#include "markdown.h"
#include "md_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#if defined(__SANITIZE_ADDRESS__)
#define MD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MD_ASAN 1
#endif
#endif

#define DEFAULT_TIMEOUT_MS 20000u
#define DEFAULT_MEMORY     (4ull << 30)
#define REPLY_MAX          (2ull << 30) /* no real document's AST comes near */

struct worker {
    pid_t pid; /* 0: not running */
    int fd;
    bool busy;
};

struct md_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct worker *w;
    unsigned n;
    unsigned timeout_ms;
    size_t memory;
    char *exe;
};

/* ---- the worker side ------------------------------------------------------ */

static bool read_full(int fd, void *p, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static void put_u64(cd_buf *b, uint64_t v)
{
    cd_buf_append(b, &v, sizeof v);
}

static void put_str(cd_buf *b, const char *s, size_t n)
{
    put_u64(b, n);
    cd_buf_append(b, s, n);
}

/* The reply frame of one render (without its length prefix). */
static void encode_reply(cd_buf *b, int32_t status, const md_error *err, const md_result *res)
{
    int32_t line = err->line;
    cd_buf_append(b, &status, sizeof status);
    cd_buf_append(b, &line, sizeof line);
    put_str(b, err->message, strlen(err->message));
    put_str(b, res->json ? res->json : "", res->len);
    put_u64(b, res->toc_at);
    put_u64(b, res->toc_len);
    uint32_t n = (uint32_t)res->nfields;
    cd_buf_append(b, &n, sizeof n);
    for (size_t i = 0; i < res->nfields; i++) {
        put_str(b, res->fields[i].key, strlen(res->fields[i].key));
        put_str(b, res->fields[i].value, strlen(res->fields[i].value));
    }
}

int md_worker_main(void)
{
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        uint32_t flags;
        uint64_t len;
        if (!read_full(0, &flags, sizeof flags) || !read_full(0, &len, sizeof len))
            return 0; /* the pool closed the socket */
        if (len > SIZE_MAX - 1)
            return 1;
        char *src = cd_xmalloc((size_t)len + 1);
        if (!read_full(0, src, (size_t)len))
            return 1;
        md_result res;
        md_error err;
        int rc = md_render_result(src, (size_t)len, flags, &res, &err);
        free(src);
        cd_buf frame = CD_BUF_INIT;
        put_u64(&frame, 0);
        encode_reply(&frame, rc, &err, &res);
        md_result_free(&res);
        uint64_t body = frame.len - sizeof body;
        memcpy(frame.data, &body, sizeof body);
        int wr = cd_write_all(1, frame.data, frame.len);
        cd_buf_free(&frame);
        if (wr != 0)
            return 1;
    }
}

/* ---- the pool side ---------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts one worker; false when it cannot be started. */
static bool spawn_worker(md_pool *p, struct worker *w)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_init(&at);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {p->exe, (char *)MD_WORKER_ARG, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, p->exe, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        return false;
    }
    struct rlimit core = {0, 0};
    prlimit(pid, RLIMIT_CORE, &core, NULL);
#ifndef MD_ASAN /* ASan reserves terabytes of address space for its shadow */
    struct rlimit as = {p->memory, p->memory};
    prlimit(pid, RLIMIT_AS, &as, NULL);
#endif
    w->pid = pid;
    w->fd = sv[0];
    return true;
}

/* Kills a worker and waits for it; returns its wait status. */
static int reap(struct worker *w)
{
    kill(w->pid, SIGKILL);
    close(w->fd);
    int status = 0;
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
        ;
    w->pid = 0;
    w->fd = -1;
    return status;
}

md_status md_pool_new(const md_pool_options *o, md_pool **out, md_error *err)
{
    md_pool *p = cd_xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    p->n = o && o->workers ? o->workers : cpus < 2 ? 2 : cpus > 16 ? 16 : (unsigned)cpus;
    p->timeout_ms = o && o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    p->memory = o && o->memory_bytes ? o->memory_bytes : DEFAULT_MEMORY;
    p->exe = cd_xstrdup(o && o->exe ? o->exe : "/proc/self/exe");
    p->w = cd_xcalloc(p->n, sizeof *p->w);
    for (unsigned i = 0; i < p->n; i++) {
        if (!spawn_worker(p, &p->w[i])) {
            if (err) {
                err->line = 0;
                snprintf(err->message, sizeof err->message,
                         "cannot start a render worker (%s %s): %s", p->exe, MD_WORKER_ARG,
                         strerror(errno));
            }
            md_pool_free(p);
            *out = NULL;
            return MD_ERR_FAILED;
        }
    }
    *out = p;
    return MD_OK;
}

void md_pool_free(md_pool *p)
{
    if (!p)
        return;
    /* workers keep no state: killing them cannot lose anything, and no
     * worker stuck in a render can hold up the shutdown */
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].pid > 0)
            reap(&p->w[i]);
    free(p->w);
    free(p->exe);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

static struct worker *take(md_pool *p)
{
    pthread_mutex_lock(&p->mu);
    struct worker *w = NULL;
    for (;;) {
        for (unsigned i = 0; i < p->n && !w; i++)
            if (!p->w[i].busy)
                w = &p->w[i];
        if (w)
            break;
        pthread_cond_wait(&p->cv, &p->mu);
    }
    w->busy = true;
    pthread_mutex_unlock(&p->mu);
    return w;
}

static void give_back(md_pool *p, struct worker *w)
{
    pthread_mutex_lock(&p->mu);
    w->busy = false;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Moves n bytes to or from the worker before the deadline: 0, -1 when
 * the worker went away, -2 at the deadline. */
static int exchange(int fd, void *p, size_t n, bool out, int64_t deadline)
{
    for (size_t done = 0; done < n;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return -2;
        struct pollfd pf = {fd, (short)(out ? POLLOUT : POLLIN), 0};
        int r = poll(&pf, 1, (int)(left > 60000 ? 60000 : left));
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0)
            continue;
        ssize_t k = out ? send(fd, (char *)p + done, n - done, MSG_DONTWAIT | MSG_NOSIGNAL)
                        : recv(fd, (char *)p + done, n - done, MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (k <= 0)
            return -1;
        done += (size_t)k;
    }
    return 0;
}

/* Reads one string of the reply at *at; NULL when the frame is short. */
static char *take_str(const cd_buf *f, size_t *at, size_t *len)
{
    uint64_t n;
    if (f->len - *at < sizeof n)
        return NULL;
    memcpy(&n, f->data + *at, sizeof n);
    *at += sizeof n;
    if (f->len - *at < n)
        return NULL;
    char *s = cd_xstrndup(f->data + *at, (size_t)n);
    *at += (size_t)n;
    if (len)
        *len = (size_t)n;
    return s;
}

/* Fills res and err from a reply frame; false when it is malformed. */
static bool decode_reply(const cd_buf *f, int *rc, md_result *res, md_error *err)
{
    int32_t st, line;
    uint32_t n;
    size_t at = 2 * sizeof st;
    if (f->len < at)
        return false;
    memcpy(&st, f->data, sizeof st);
    memcpy(&line, f->data + sizeof st, sizeof line);
    char *msg = take_str(f, &at, NULL);
    if (!msg)
        return false;
    err->line = line;
    snprintf(err->message, sizeof err->message, "%s", msg);
    free(msg);
    *rc = st;
    uint64_t toc[2];
    if (!(res->json = take_str(f, &at, &res->len)) || f->len - at < sizeof toc + sizeof n)
        return false;
    memcpy(toc, f->data + at, sizeof toc);
    at += sizeof toc;
    if (toc[0] > res->len || toc[1] > res->len - toc[0])
        return false;
    res->toc_at = (size_t)toc[0];
    res->toc_len = (size_t)toc[1];
    memcpy(&n, f->data + at, sizeof n);
    at += sizeof n;
    if (n > (f->len - at) / (2 * sizeof(uint64_t)))
        return false;
    res->fields = cd_xcalloc(n ? n : 1, sizeof *res->fields);
    for (uint32_t i = 0; i < n; i++) {
        md_field *fd = &res->fields[i];
        if (!(fd->key = take_str(f, &at, NULL)) || !(fd->value = take_str(f, &at, NULL))) {
            free(fd->key);
            return false;
        }
        res->nfields++;
    }
    res->title = (char *)md_result_field(res, "title");
    res->description = (char *)md_result_field(res, "description");
    if (!res->title)
        res->title = "";
    if (!res->description)
        res->description = "";
    return true;
}

/* The document of a render that failed: data with empty title and
 * description, an empty body, the default toc, and "error". */
static void failed_document(md_result *res, const char *code, const char *message)
{
    static const char head[] = "{\"data\":{\"title\":\"\",\"description\":\"\"},"
                               "\"body\":{\"type\":\"root\",\"children\":[]},\"toc\":",
                      toc[] = "{\"title\":\"\",\"searchDepth\":2,\"depth\":2,\"links\":[]}";
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, head);
    cd_buf_puts(&b, toc);
    cd_buf_puts(&b, ",\"error\":{\"code\":");
    cd_json_str(&b, code, strlen(code));
    cd_buf_puts(&b, ",\"message\":");
    cd_json_str(&b, message, strlen(message));
    cd_buf_puts(&b, "}}");
    res->json = cd_buf_steal(&b, &res->len);
    res->toc_at = sizeof head - 1;
    res->toc_len = sizeof toc - 1;
    res->fields = cd_xcalloc(2, sizeof *res->fields);
    res->fields[0] = (md_field){cd_xstrdup("title"), cd_xstrdup("")};
    res->fields[1] = (md_field){cd_xstrdup("description"), cd_xstrdup("")};
    res->nfields = 2;
    res->title = res->fields[0].value;
    res->description = res->fields[1].value;
}

/* Why a worker ended, for the error document. */
static void death_reason(int status, size_t memory, const char **code, char *msg, size_t cap)
{
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) {
        *code = "render_crashed";
        snprintf(msg, cap,
                 "the renderer stopped on SIGABRT: the document needs more memory than the "
                 "budget (%zu MiB) or hit an internal error",
                 memory >> 20);
    } else if (WIFSIGNALED(status)) {
        *code = "render_crashed";
        const char *name = sigabbrev_np(WTERMSIG(status));
        snprintf(msg, cap, "the renderer crashed on this document (SIG%s)", name ? name : "?");
    } else {
        *code = "render_crashed";
        snprintf(msg, cap, "the renderer ended on this document (exit status %d)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
}

/* One exchange with worker w: 0 and the reply in frame, else -1 (the
 * worker died) or -2 (past the deadline). */
static int ask(struct worker *w, const char *src, size_t len, unsigned flags, int64_t deadline,
               cd_buf *frame)
{
    uint32_t fl = flags;
    uint64_t n = len, reply;
    char head[sizeof fl + sizeof n];
    memcpy(head, &fl, sizeof fl);
    memcpy(head + sizeof fl, &n, sizeof n);
    int r = exchange(w->fd, head, sizeof head, true, deadline);
    if (r == 0)
        r = exchange(w->fd, (char *)src, len, true, deadline);
    if (r == 0)
        r = exchange(w->fd, &reply, sizeof reply, false, deadline);
    if (r == 0 && reply > REPLY_MAX)
        r = -1;
    if (r == 0) {
        cd_buf_grow(frame, (size_t)reply);
        r = exchange(w->fd, frame->data, (size_t)reply, false, deadline);
        frame->len = (size_t)reply;
    }
    return r;
}

md_status md_pool_render(md_pool *p, const char *src, size_t len, unsigned flags, md_result *res,
                         md_error *err)
{
    md_error local;
    if (!err)
        err = &local;
    memset(res, 0, sizeof *res);
    err->line = 0;
    err->message[0] = '\0';
    struct worker *w = take(p);
    int st;
    if (w->pid > 0 && waitpid(w->pid, &st, WNOHANG) == w->pid) { /* died while idle */
        close(w->fd);
        w->pid = 0;
    }
    int64_t deadline = now_ms() + p->timeout_ms;
    int r = -1, rc = MD_ERR_FAILED;
    cd_buf frame = CD_BUF_INIT;
    if (w->pid > 0 || spawn_worker(p, w))
        r = ask(w, src, len, flags, deadline, &frame);
    else
        snprintf(err->message, sizeof err->message, "cannot start a render worker: %s",
                 strerror(errno));
    if (r == 0 && !decode_reply(&frame, &rc, res, err)) {
        md_result_free(res);
        r = -1;
    }
    cd_buf_free(&frame);
    if (r != 0 && w->pid > 0) {
        int status = reap(w);
        const char *code = "render_timeout";
        if (r == -2)
            snprintf(err->message, sizeof err->message,
                     "rendering took longer than the budget (%u ms)", p->timeout_ms);
        else
            death_reason(status, p->memory, &code, err->message, sizeof err->message);
        failed_document(res, code, err->message);
        rc = MD_ERR_FAILED;
    } else if (r != 0) {
        failed_document(res, "render_crashed", err->message);
    }
    give_back(p, w);
    return rc;
}
