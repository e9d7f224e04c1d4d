/* SPDX-License-Identifier: MIT */
/*
 * The scripted loopback HTTP server of the s3/ unit tests (fake_s3.h).  One
 * thread, one connection at a time, keep-alive honoured; poll() with a short
 * timeout lets fake_stop() end it.
 */
#include "fake_s3.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static bool stopping(fake_s3 *f)
{
    pthread_mutex_lock(&f->lock);
    bool s = f->stop;
    pthread_mutex_unlock(&f->lock);
    return s;
}

/* Reads more bytes into buf (cap bytes) after *len; false at EOF or stop. */
static bool fill(fake_s3 *f, int fd, char *buf, size_t cap, size_t *len)
{
    while (!stopping(f)) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t n = recv(fd, buf + *len, cap - *len, 0);
        if (n <= 0)
            return false;
        *len += (size_t)n;
        return true;
    }
    return false;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void reset(int fd)
{
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

/* Answers one request with script entry r; false when the connection ends. */
static bool answer(int fd, const fake_resp *r)
{
    if (r->status == 0) {
        reset(fd);
        return false;
    }
    size_t blen = r->body ? strlen(r->body) : 0;
    char head[1024];
    int hl = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n",
                      r->status, blen, r->headers ? r->headers : "");
    send_all(fd, head, (size_t)hl);
    if (r->cut) {
        send_all(fd, r->body, r->cut);
        for (int t = 0; t < r->stall_ms; t += 10)
            usleep(10000);
        close(fd);
        return false;
    }
    if (blen)
        send_all(fd, r->body, blen);
    return true;
}

/* Serves one connection: requests until the peer closes or a scripted
 * response ends it. */
static void serve(fake_s3 *f, int fd)
{
    static char buf[1 << 20];
    size_t len = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(buf, len, "\r\n\r\n", 4)))
            if (len == sizeof buf || !fill(f, fd, buf, sizeof buf, &len)) {
                close(fd);
                return;
            }
        size_t hlen = (size_t)(end - buf) + 4;
        fake_req q = {0};
        sscanf(buf, "%7s %2047s", q.method, q.target);
        const char *cl = strcasestr(buf, "\r\ncontent-length:");
        size_t body = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
        const char *ex = strcasestr(buf, "\r\nexpect: 100-continue");
        if (ex && ex < end)
            send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        snprintf(q.headers, sizeof q.headers, "%.*s", (int)hlen, buf);
        memmove(buf, buf + hlen, len - hlen);
        len -= hlen;
        for (size_t need = body; need;) { /* the body is counted, not kept */
            if (!len && !fill(f, fd, buf, sizeof buf, &len)) {
                close(fd);
                return;
            }
            size_t k = len < need ? len : need;
            memmove(buf, buf + k, len - k);
            len -= k;
            need -= k;
        }
        q.body_len = body;
        pthread_mutex_lock(&f->lock);
        size_t i = f->n_got;
        if (i < FAKE_MAX)
            f->got[f->n_got++] = q;
        fake_resp r = i < f->n_script ? f->script[i] : (fake_resp){200, NULL, NULL, 0, 0};
        pthread_mutex_unlock(&f->lock);
        if (!answer(fd, &r))
            return;
    }
}

static void *run(void *arg)
{
    fake_s3 *f = arg;
    while (!stopping(f)) {
        struct pollfd p = {f->listen_fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(f->listen_fd, NULL, NULL);
        if (fd >= 0)
            serve(f, fd);
    }
    return NULL;
}

void fake_start(fake_s3 *f, const fake_resp *script, size_t n)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    memcpy(f->script, script, n * sizeof *script);
    f->n_script = n;
    f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(f->listen_fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(f->listen_fd, 16) < 0 ||
        getsockname(f->listen_fd, (struct sockaddr *)&a, &al) < 0) {
        perror("fake_s3");
        abort();
    }
    f->port = ntohs(a.sin_port);
    pthread_create(&f->thread, NULL, run, f);
}

void fake_stop(fake_s3 *f)
{
    pthread_mutex_lock(&f->lock);
    f->stop = true;
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    close(f->listen_fd);
    pthread_mutex_destroy(&f->lock);
}

void fake_url(const fake_s3 *f, char *buf, size_t n)
{
    snprintf(buf, n, "http://127.0.0.1:%d", f->port);
}
