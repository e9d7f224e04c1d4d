/* SPDX-License-Identifier: MIT */
/*
 * Noticing at once that an event stream's client went away.
 *
 * An idle stream is suspended (sse.c), which takes its socket off
 * libmicrohttpd's epoll set: the client's FIN or RST would only show when a
 * keep-alive write fails, 15 to 30 s later, and meanwhile the subscriber,
 * its socket and its slot in the connection table stay taken.  So every
 * stream's socket is also in an epoll set of our own, edge-triggered on
 * EPOLLRDHUP (EPOLLHUP and EPOLLERR come with it): one thread sleeps in
 * epoll_wait — no polling, no timeout — and when a peer hangs up it marks
 * the subscriber gone and resumes its connection; the content reader then
 * ends the response, libmicrohttpd closes the connection and the subscriber
 * is released within milliseconds.
 *
 * The epoll data is the socket's descriptor and a generation number, looked
 * up in a table under the watcher's lock, so that an event that raced with
 * the stream's end never touches a freed subscriber or a reused
 * descriptor: http_sse_close_forget() takes the entry out (and the socket
 * out of the set) before the subscriber can be freed.  Lock order: the
 * watcher's lock, then the subscriber's (hub_sub_hangup).
 */
#include "http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct {
    hub_sub *sub;
    uint32_t gen;
} watched;

struct http_sse_close {
    int ep;   /* the epoll set */
    int stop; /* eventfd: wakes the thread to end */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* guards table, cap, gen */
    watched *table;     /* indexed by descriptor */
    size_t cap;
    uint32_t gen;
    atomic_uint_fast64_t hangups;
};

static uint64_t pack(int fd, uint32_t gen)
{
    return (uint64_t)(uint32_t)fd << 32 | gen;
}

static void on_event(http_sse_close *w, uint64_t data)
{
    int fd = (int)(data >> 32);
    uint32_t gen = (uint32_t)data;
    pthread_mutex_lock(&w->mu);
    if (fd >= 0 && (size_t)fd < w->cap && w->table[fd].sub && w->table[fd].gen == gen) {
        hub_sub_hangup(w->table[fd].sub);
        atomic_fetch_add_explicit(&w->hangups, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&w->mu);
}

static void *watch_main(void *arg)
{
    http_sse_close *w = arg;
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(w->ep, evs, 64, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cd_log("error", "sse", "msg=\"closed-stream watcher stopped\" err=\"%s\"",
                   strerror(errno));
            return NULL;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == UINT64_MAX)
                return NULL; /* http_sse_close_free() */
            on_event(w, evs[i].data.u64);
        }
    }
}

http_sse_close *http_sse_close_new(cd_err *err)
{
    http_sse_close *w = cd_xcalloc(1, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    w->stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    if (w->ep < 0 || w->stop < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, w->stop, &ev) != 0 ||
        pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        cd_err_set(err, -1, "cannot start the closed-stream watcher: %s", strerror(errno));
        http_sse_close_free(w);
        return NULL;
    }
    w->started = true;
    return w;
}

void http_sse_close_free(http_sse_close *w)
{
    if (!w)
        return;
    if (w->started) {
        uint64_t one = 1;
        if (write(w->stop, &one, sizeof one) < 0)
            cd_log("warn", "sse", "msg=\"cannot wake the closed-stream watcher\"");
        pthread_join(w->thread, NULL);
    }
    if (w->ep >= 0)
        close(w->ep);
    if (w->stop >= 0)
        close(w->stop);
    free(w->table);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

bool http_sse_close_watch(http_sse_close *w, hub_sub *sub, int fd)
{
    if (!w || fd < 0)
        return false;
    bool watching = false;
    pthread_mutex_lock(&w->mu);
    if ((size_t)fd >= w->cap) {
        size_t cap = w->cap ? w->cap : 1024;
        while (cap <= (size_t)fd)
            cap *= 2;
        w->table = cd_xrealloc(w->table, cap * sizeof *w->table);
        memset(w->table + w->cap, 0, (cap - w->cap) * sizeof *w->table);
        w->cap = cap;
    }
    uint32_t gen = ++w->gen;
    struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLET, .data.u64 = pack(fd, gen)};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) == 0) {
        w->table[fd] = (watched){sub, gen};
        watching = true;
    } else {
        cd_log("warn", "sse", "msg=\"stream not watched for hang-ups\" err=\"%s\"",
               strerror(errno));
    }
    pthread_mutex_unlock(&w->mu);
    return watching;
}

void http_sse_close_forget(http_sse_close *w, hub_sub *sub, int fd)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    epoll_ctl(w->ep, EPOLL_CTL_DEL, fd, NULL);
    if ((size_t)fd < w->cap && w->table[fd].sub == sub)
        w->table[fd] = (watched){NULL, 0};
    pthread_mutex_unlock(&w->mu);
}

uint64_t http_sse_close_hangups(http_sse_close *w)
{
    return w ? atomic_load_explicit(&w->hangups, memory_order_relaxed) : 0;
}
