/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the watch/ unit tests (see watch_test_util.h).  Waiting is
 * always on a condition variable with a deadline, never a bare sleep.
 */
#include "watch_test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The recorder ---------------------------------------------------------- */

void rec_init(rec *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
}

void rec_free(rec *r)
{
    for (size_t i = 0; i < r->nb; i++) {
        for (size_t j = 0; j < r->b[i].n; j++)
            free(r->b[i].paths[j]);
        free(r->b[i].paths);
    }
    free(r->b);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
}

void rec_cb(void *arg, const watch_batch *b)
{
    rec *r = arg;
    rbatch rb = {
        .n = b->npaths, .flags = b->flags, .at_ns = now_ns(), .first_ns = b->first_event_ns};
    rb.paths = calloc(b->npaths ? b->npaths : 1, sizeof *rb.paths);
    for (size_t i = 0; i < b->npaths; i++) {
        rb.paths[i] = strdup(b->paths[i]);
        if (i > 0) /* sorted and unique, as promised */
            assert_true(strcmp(b->paths[i - 1], b->paths[i]) < 0);
    }
    if (b->flags & WATCH_INCOMPLETE)
        assert_non_null(b->error);
    pthread_mutex_lock(&r->mu);
    if (r->nb == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->b = realloc(r->b, r->cap * sizeof *r->b);
    }
    r->b[r->nb++] = rb;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

size_t rec_count(rec *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->nb;
    pthread_mutex_unlock(&r->mu);
    return n;
}

rbatch rec_get(rec *r, size_t i)
{
    pthread_mutex_lock(&r->mu);
    rbatch b = r->b[i];
    pthread_mutex_unlock(&r->mu);
    return b;
}

static bool batch_has(const rbatch *b, const char *path)
{
    for (size_t j = 0; j < b->n; j++)
        if (strcmp(b->paths[j], path) == 0)
            return true;
    return false;
}

/* r->mu held. */
static size_t find_locked(rec *r, size_t from, const char *path, unsigned flags)
{
    for (size_t i = from; i < r->nb; i++) {
        if (path && !batch_has(&r->b[i], path))
            continue;
        if ((r->b[i].flags & flags) != flags)
            continue;
        return i;
    }
    return (size_t)-1;
}

size_t rec_find(rec *r, size_t from, const char *path)
{
    pthread_mutex_lock(&r->mu);
    size_t i = find_locked(r, from, path, 0);
    pthread_mutex_unlock(&r->mu);
    return i;
}

static size_t wait_for(rec *r, size_t from, const char *path, unsigned flags, int ms)
{
    int64_t deadline = now_ns() + (int64_t)ms * 1000000;
    struct timespec ts = {.tv_sec = deadline / 1000000000, .tv_nsec = deadline % 1000000000};
    pthread_mutex_lock(&r->mu);
    size_t i;
    while ((i = find_locked(r, from, path, flags)) == (size_t)-1) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT) {
            i = find_locked(r, from, path, flags);
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return i;
}

size_t rec_wait_path(rec *r, size_t from, const char *path, int ms)
{
    return wait_for(r, from, path, 0, ms);
}

size_t rec_wait_flags(rec *r, size_t from, unsigned flags, int ms)
{
    return wait_for(r, from, NULL, flags, ms);
}

bool rec_any_prefix(rec *r, size_t from, size_t to, const char *prefix)
{
    bool found = false;
    pthread_mutex_lock(&r->mu);
    for (size_t i = from; i <= to && i < r->nb && !found; i++)
        for (size_t j = 0; j < r->b[i].n && !found; j++)
            found = strncmp(r->b[i].paths[j], prefix, strlen(prefix)) == 0;
    pthread_mutex_unlock(&r->mu);
    return found;
}

/* The fixture ------------------------------------------------------------ */

int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->base, sizeof f->base, "/tmp/contentd-watch.XXXXXX");
    if (!mkdtemp(f->base))
        return -1;
    snprintf(f->root, sizeof f->root, "%s/root", f->base);
    snprintf(f->out, sizeof f->out, "%s/out", f->base);
    if (mkdir(f->root, 0755) != 0 || mkdir(f->out, 0755) != 0)
        return -1;
    rec_init(&f->r);
    *state = f;
    return 0;
}

int fx_teardown(void **state)
{
    fx *f = *state;
    watch_free(f->w);
    rec_free(&f->r);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->base);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

void fx_start(fx *f, const watch_options *opt)
{
    cd_err err = {0};
    int rc = watch_start(f->root, opt, rec_cb, &f->r, &f->w, &err);
    if (rc != WATCH_OK)
        fail_msg("watch_start: %s", err.msg);
}

char *fx_path(const fx *f, const char *rel)
{
    size_t n = strlen(f->base) + strlen(rel) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", f->base, rel);
    return p;
}

void put(const fx *f, const char *rel, const char *text)
{
    char *p = fx_path(f, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        fail_msg("open %s: %s", p, strerror(errno));
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
    free(p);
}

void mkdir_in(const fx *f, const char *rel)
{
    char *p = fx_path(f, rel);
    if (mkdir(p, 0755) != 0)
        fail_msg("mkdir %s: %s", p, strerror(errno));
    free(p);
}

void rename_in(const fx *f, const char *from, const char *to)
{
    char *a = fx_path(f, from), *b = fx_path(f, to);
    if (rename(a, b) != 0)
        fail_msg("rename %s %s: %s", a, b, strerror(errno));
    free(a);
    free(b);
}

void unlink_in(const fx *f, const char *rel)
{
    char *p = fx_path(f, rel);
    if (unlink(p) != 0)
        fail_msg("unlink %s: %s", p, strerror(errno));
    free(p);
}

void sh(const fx *f, const char *fmt)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, f->base, f->base, f->base);
    int rc = system(cmd);
    if (rc != 0)
        fail_msg("%s: status %d", cmd, rc);
}

size_t sentinel(fx *f, const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "root/%s", name);
    size_t from = rec_count(&f->r);
    put(f, rel, "sentinel");
    size_t i = rec_wait_path(&f->r, from, name, WAIT_MS);
    if (i == (size_t)-1)
        fail_msg("sentinel %s never arrived", name);
    return i;
}
