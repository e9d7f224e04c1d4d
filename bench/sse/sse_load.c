/* SPDX-License-Identifier: MIT */
/*
 * sse_load — holds N server-sent event subscriptions to one URL and records
 * when each subscriber receives each event, for bench/sse/run.
 *
 * One thread, one epoll set, non-blocking sockets: the subscribers connect
 * (at most --max-pending handshakes in flight, optionally at most
 * --connect-rate per second), send `GET` with `Accept: text/event-stream`,
 * and from then on every read is timestamped (CLOCK_MONOTONIC, the clock
 * Python's time.monotonic_ns() reads, so a publisher in another process can
 * be compared) and fed to an incremental parser (sse_parse.c).  An event's
 * receipt time is the time of the read that completed it.
 *
 * A subscriber is "ready" when its response headers say 200 (--ready
 * headers) or when it has received its first event of a given type (--ready
 * event:snapshot).  Events after that are measured: each carries a marker,
 * the integer in its `id:` (--marker id) or the integer after `"KEY":` in
 * its data (--marker data:KEY).
 *
 * Output on stdout, one line per fact, key=value, for the driver to read:
 *   ready subscribers=N ready=R failed=F connect_s=S
 *   complete marker=K got=G alive=A first_ns=T last_ns=T
 *       (once per marker, when every live subscriber has it)
 *   result ... (totals when the run ends)
 *   reason count=C what=...   (why subscribers failed or were closed)
 * With --out FILE, every receipt as one line "subscriber marker t_ns".
 * With --control, stdin takes commands: "status" prints
 *   status subscribers=N ready=R failed=F pending=P alive=A closed=C cpu_s=S bytes=B
 * (B: every byte read from the sockets so far, as it came off the wire)
 * and "quit" (or end of file) ends the run.  It also ends after --messages
 * markers reached every live subscriber, after --timeout, or on SIGINT or
 * SIGTERM; the results are printed and written in every case.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "sse_args.h"
#include "sse_parse.h"

enum sub_state { S_IDLE, S_CONNECTING, S_WAIT_HEAD, S_WAIT_READY, S_READY, S_DEAD };

struct rec {
    int64_t marker;
    int64_t t;
};

struct sub {
    int fd;
    uint8_t state;
    uint16_t req_sent;
    uint32_t nrecs, cap;
    struct rec *recs;
    struct sse_parser p;
};

/* One marker seen by some subscriber.  live counts the live subscribers
 * that have it, got every receipt ever. */
struct mark {
    int64_t marker;
    uint32_t got, live;
    int done;
    int64_t first, last;
};

struct reason {
    const char *what;
    unsigned count;
};

#define MAX_REASONS 16
#define MAX_EVENTS  1024
#define READ_BUF    (64 * 1024)
#define CONTROL_TAG UINT32_MAX

static struct {
    struct sse_args o;
    struct sse_target tgt;
    /* state */
    struct sub *subs;
    struct mark *marks;
    size_t nmarks, cap_marks;
    struct reason reasons[MAX_REASONS];
    int ep;
    unsigned next, pending, ready, failed, closed, alive, complete_subs;
    uint64_t events, unmarked, duplicates, bytes, data_bytes;
    int64_t t_start, t_all_ready;
    int ready_printed;
    volatile sig_atomic_t stop;
} g = {.o = SSE_ARGS_DEFAULTS};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* User plus system CPU time of this process so far. */
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- failures and bookkeeping ---------------------------------------- */

static void note_reason(const char *what)
{
    for (int i = 0; i < MAX_REASONS; i++) {
        struct reason *r = &g.reasons[i];
        if (!r->what || strcmp(r->what, what) == 0) {
            r->what = r->what ? r->what : cd_xstrdup(what);
            r->count++;
            return;
        }
    }
}

static struct mark *find_mark(int64_t marker, int add)
{
    for (size_t i = g.nmarks; i-- > 0;)
        if (g.marks[i].marker == marker)
            return &g.marks[i];
    if (!add)
        return NULL;
    g.marks = cd_grow(g.marks, g.nmarks, &g.cap_marks, 64, sizeof *g.marks);
    struct mark *m = &g.marks[g.nmarks++];
    memset(m, 0, sizeof *m);
    m->marker = marker;
    return m;
}

/* Announces every marker that all live subscribers now have. */
static void check_marks(void)
{
    for (size_t i = 0; i < g.nmarks; i++) {
        struct mark *m = &g.marks[i];
        if (m->done || g.alive == 0 || m->live < g.alive)
            continue;
        m->done = 1;
        printf("complete marker=%" PRId64 " got=%u alive=%u first_ns=%" PRId64 " last_ns=%" PRId64
               "\n",
               m->marker, m->got, g.alive, m->first, m->last);
    }
}

static void sub_dead(struct sub *s, const char *why)
{
    if (s->state == S_DEAD)
        return;
    char what[160];
    if (s->state == S_READY) {
        g.closed++;
        g.alive--;
        if (s->recs && s->nrecs >= g.o.messages && g.o.messages)
            g.complete_subs--;
        for (uint32_t i = 0; i < s->nrecs; i++)
            find_mark(s->recs[i].marker, 0)->live--;
        snprintf(what, sizeof what, "closed after ready: %s", why);
    } else {
        g.failed++;
        g.pending--;
        snprintf(what, sizeof what, "failed before ready: %s", why);
    }
    note_reason(what);
    close(s->fd);
    s->fd = -1;
    s->state = S_DEAD;
    sse_parser_close(&s->p);
    check_marks();
}

static void become_ready(struct sub *s, int64_t t)
{
    s->state = S_READY;
    g.pending--;
    g.ready++;
    g.alive++;
    g.t_all_ready = t;
    sse_parser_free(&s->p);
}

/* ---- events ---------------------------------------------------------- */

static int64_t event_marker(const struct sse_event *ev)
{
    const char *s = ev->id;
    if (g.o.marker_key) {
        char key[64];
        snprintf(key, sizeof key, "\"%s\":", g.o.marker_key);
        s = strstr(ev->data, key);
        if (!s)
            return -1;
        s += strlen(key);
        while (*s == ' ')
            s++;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0)
        return -1;
    return v;
}

static void record(struct sub *s, int64_t marker, int64_t t)
{
    for (uint32_t i = s->nrecs; i-- > 0;)
        if (s->recs[i].marker == marker) {
            g.duplicates++;
            return;
        }
    if (s->nrecs == s->cap) {
        s->cap = s->cap ? 2 * s->cap : (g.o.messages ? g.o.messages + 2 : 16);
        s->recs = cd_xrealloc(s->recs, s->cap * sizeof *s->recs);
    }
    s->recs[s->nrecs++] = (struct rec){marker, t};
    struct mark *m = find_mark(marker, 1);
    if (m->got++ == 0)
        m->first = t;
    m->live++;
    m->last = t;
    if (g.o.messages && s->nrecs == g.o.messages)
        g.complete_subs++;
    if (!m->done && m->live >= g.alive)
        check_marks();
}

/* Checks the status once the headers are in; returns 0 if s lives on. */
static int head_checked(struct sub *s, int64_t t)
{
    if (s->state != S_WAIT_HEAD || !sse_parser_headers_done(&s->p))
        return 0;
    if (s->p.status != 200) {
        char why[64];
        snprintf(why, sizeof why, "HTTP status %u", s->p.status);
        sub_dead(s, why);
        return -1;
    }
    if (!s->p.event_stream) {
        sub_dead(s, "Content-Type is not text/event-stream");
        return -1;
    }
    if (g.o.ready_event)
        s->state = S_WAIT_READY;
    else
        become_ready(s, t);
    return 0;
}

static void on_event(void *arg, const struct sse_event *ev, int64_t t)
{
    struct sub *s = arg;
    if (head_checked(s, t) < 0)
        return;
    if (s->state == S_WAIT_READY) {
        if (strcmp(ev->name, g.o.ready_event) == 0)
            become_ready(s, t);
        return;
    }
    if (s->state != S_READY)
        return;
    g.events++;
    g.data_bytes += ev->data_len;
    int64_t marker = event_marker(ev);
    if (marker < 0)
        g.unmarked++;
    else
        record(s, marker, t);
}

/* ---- sockets --------------------------------------------------------- */

static void sub_open(struct sub *s)
{
    s->fd = socket(g.tgt.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    g.pending++;
    s->state = S_CONNECTING;
    sse_parser_init(&s->p);
    if (s->fd < 0) {
        s->fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* so close() is harmless */
        sub_dead(s, strerror(errno));
        return;
    }
    if (connect(s->fd, (struct sockaddr *)&g.tgt.addr, g.tgt.addrlen) < 0 && errno != EINPROGRESS) {
        sub_dead(s, strerror(errno));
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)(s - g.subs)};
    if (epoll_ctl(g.ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
        sub_dead(s, strerror(errno));
}

static void sub_writable(struct sub *s)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (s->req_sent == 0 && getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
        sub_dead(s, strerror(err));
        return;
    }
    ssize_t w = write(s->fd, g.tgt.request + s->req_sent, g.tgt.request_len - s->req_sent);
    if (w < 0) {
        if (errno != EAGAIN)
            sub_dead(s, strerror(errno));
        return;
    }
    s->req_sent += (uint16_t)w;
    if (s->req_sent < g.tgt.request_len)
        return;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(s - g.subs)};
    if (epoll_ctl(g.ep, EPOLL_CTL_MOD, s->fd, &ev) < 0) {
        sub_dead(s, strerror(errno));
        return;
    }
    s->state = S_WAIT_HEAD;
}

static void sub_readable(struct sub *s)
{
    static char buf[READ_BUF];
    ssize_t r = read(s->fd, buf, sizeof buf);
    int64_t t = now_ns();
    if (r == 0) {
        sub_dead(s, "connection closed by the server");
        return;
    }
    if (r < 0) {
        if (errno != EAGAIN && errno != EINTR)
            sub_dead(s, strerror(errno));
        return;
    }
    g.bytes += (uint64_t)r;
    enum sse_status st = sse_feed(&s->p, buf, (size_t)r, t, on_event, s);
    if (s->state == S_DEAD)
        return;
    if (st == SSE_ERROR)
        sub_dead(s, sse_parser_error(&s->p));
    else if (st == SSE_END)
        sub_dead(s, "the response ended");
    else
        head_checked(s, t);
}

static void sub_event(struct sub *s, uint32_t events)
{
    if (s->state == S_CONNECTING)
        sub_writable(s);
    else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        sub_readable(s);
}

/* ---- the loop -------------------------------------------------------- */

static void control_input(void)
{
    char buf[256];
    ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
    if (r == 0 || (r > 0 && memmem(buf, (size_t)r, "quit", 4)))
        g.stop = 1;
    else if (r > 0 && memmem(buf, (size_t)r, "status", 6))
        printf("status subscribers=%u ready=%u failed=%u pending=%u alive=%u closed=%u "
               "cpu_s=%.3f bytes=%" PRIu64 "\n",
               g.o.n, g.ready, g.failed, g.pending, g.alive, g.closed, cpu_seconds(), g.bytes);
    if (r == 0)
        epoll_ctl(g.ep, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
}

/* Opens what the pending cap and the rate allow; returns the epoll timeout. */
static int open_more(int64_t t)
{
    double elapsed = (double)(t - g.t_start) / 1e9;
    while (g.next < g.o.n && g.pending < g.o.max_pending) {
        if (g.o.rate > 0 && (double)g.next > g.o.rate * elapsed) {
            double wait = (double)g.next / g.o.rate - elapsed;
            return (int)(wait * 1000) + 1;
        }
        sub_open(&g.subs[g.next++]);
    }
    return 100;
}

static void print_ready_once(void)
{
    if (g.ready_printed || g.ready + g.failed < g.o.n)
        return;
    g.ready_printed = 1;
    printf("ready subscribers=%u ready=%u failed=%u connect_s=%.3f\n", g.o.n, g.ready, g.failed,
           g.ready ? (double)(g.t_all_ready - g.t_start) / 1e9 : 0.0);
}

static void run_loop(void)
{
    static struct epoll_event evs[MAX_EVENTS];
    int64_t deadline = g.t_start + (int64_t)(g.o.timeout * 1e9);
    while (!g.stop) {
        int64_t t = now_ns();
        if (t >= deadline) {
            note_reason("the run hit --timeout");
            break;
        }
        int timeout = open_more(t);
        int n = epoll_wait(g.ep, evs, MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR) {
            perror("sse_load: epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u32 == CONTROL_TAG)
                control_input();
            else
                sub_event(&g.subs[evs[i].data.u32], evs[i].events);
        }
        print_ready_once();
        if (g.ready_printed && g.o.messages && g.alive && g.complete_subs >= g.alive)
            break;
        if (g.ready_printed && g.alive == 0)
            break;
    }
}

/* ---- set-up and results ---------------------------------------------- */

static int raise_nofile(void)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)g.o.n + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    if (rl.rlim_cur >= want)
        return 0;
    if (rl.rlim_max < want) {
        struct rlimit up = {want, want};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0) /* root may raise the hard limit */
            return 0;
    }
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want) {
        fprintf(stderr, "sse_load: the open-file limit (%llu) is too low for %u subscribers\n",
                (unsigned long long)rl.rlim_cur, g.o.n);
        return -1;
    }
    return 0;
}

static int write_receipts(void)
{
    FILE *f = fopen(g.o.out, "w");
    if (!f) {
        fprintf(stderr, "sse_load: %s: %s\n", g.o.out, strerror(errno));
        return -1;
    }
    for (unsigned i = 0; i < g.o.n; i++)
        for (uint32_t k = 0; k < g.subs[i].nrecs; k++)
            fprintf(f, "%u %" PRId64 " %" PRId64 "\n", i, g.subs[i].recs[k].marker,
                    g.subs[i].recs[k].t);
    return fclose(f) == 0 ? 0 : -1;
}

static void print_results(void)
{
    print_ready_once();
    double secs = (double)(now_ns() - g.t_start) / 1e9, cpu = cpu_seconds();
    printf("result subscribers=%u ready=%u failed=%u closed=%u alive=%u events=%" PRIu64
           " unmarked=%" PRIu64 " duplicates=%" PRIu64 " bytes=%" PRIu64
           " event_data_bytes_avg=%.0f duration_s=%.3f cpu_s=%.3f\n",
           g.o.n, g.ready, g.failed, g.closed, g.alive, g.events, g.unmarked, g.duplicates, g.bytes,
           g.events ? (double)g.data_bytes / (double)g.events : 0.0, secs, cpu);
    for (int i = 0; i < MAX_REASONS && g.reasons[i].what; i++)
        printf("reason count=%u what=%s\n", g.reasons[i].count, g.reasons[i].what);
}

static void on_signal(int sig)
{
    (void)sig;
    g.stop = 1;
}

int main(int argc, char **argv)
{
    if (sse_args_parse(&g.o, argc, argv) < 0) {
        sse_args_usage(stderr);
        return 2;
    }
    if (sse_target_resolve(&g.o, &g.tgt) < 0) {
        fprintf(stderr, "sse_load: cannot use the URL %s (http://HOST:PORT/PATH)\n", g.o.url);
        return 2;
    }
    if (raise_nofile() < 0)
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    g.subs = cd_xcalloc(g.o.n, sizeof *g.subs);
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    if (g.ep < 0) {
        perror("sse_load: epoll_create1");
        return 1;
    }
    if (g.o.control) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = CONTROL_TAG};
        if (epoll_ctl(g.ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) < 0) {
            perror("sse_load: --control needs stdin to be a pipe");
            return 2;
        }
    }
    g.t_start = now_ns();
    run_loop();
    print_results();
    if (g.o.out && write_receipts() < 0)
        return 1;
    return 0;
}
