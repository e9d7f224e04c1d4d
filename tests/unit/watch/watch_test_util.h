/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the watch/ unit tests: a recorder that keeps every batch a
 * watcher delivers (with its CLOCK_MONOTONIC arrival time) and waits for
 * conditions on them with a deadline, and a fixture with a temporary
 * folder holding the watched root and a folder outside it.
 */
#ifndef CONTENTD_WATCH_TEST_UTIL_H
#define CONTENTD_WATCH_TEST_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "watch.h"

/* Generous: unit tests run under ASan on loaded CI machines. */
#define WAIT_MS 5000

typedef struct rbatch {
    char **paths;
    size_t n;
    unsigned flags;
    int64_t at_ns;    /* when the callback ran */
    int64_t first_ns; /* batch->first_event_ns */
} rbatch;

typedef struct rec {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rbatch *b;
    size_t nb, cap;
} rec;

typedef struct fx {
    char base[64];  /* mkdtemp */
    char root[128]; /* base/root: watched */
    char out[128];  /* base/out: outside the tree */
    rec r;
    watch_folder *w;
} fx;

int64_t now_ns(void);
void sleep_ms(int ms);

void rec_init(rec *r);
void rec_free(rec *r);
/* The watch_batch_fn that records into (rec *)arg. */
void rec_cb(void *arg, const watch_batch *b);
size_t rec_count(rec *r);
/* Index of the first batch >= from that lists path, or (size_t)-1. */
size_t rec_find(rec *r, size_t from, const char *path);
/* Waits up to ms for a batch >= from listing path; returns its index or
 * (size_t)-1. */
size_t rec_wait_path(rec *r, size_t from, const char *path, int ms);
/* Waits for a batch >= from whose flags include all of flags. */
size_t rec_wait_flags(rec *r, size_t from, unsigned flags, int ms);
/* Whether any batch in [from, to] lists a path starting with prefix. */
bool rec_any_prefix(rec *r, size_t from, size_t to, const char *prefix);
/* A copy of batch i (paths shared with the recorder: valid until
 * rec_free). */
rbatch rec_get(rec *r, size_t i);

/* Fixture: setup makes base, root and out; nothing is watched yet. */
int fx_setup(void **state);
int fx_teardown(void **state);
/* Starts watching fx->root with opt (may be NULL); fails the test on error. */
void fx_start(fx *f, const watch_options *opt);

/* base/rel (rel relative to base: "root/a.md", "out/x"); caller frees. */
char *fx_path(const fx *f, const char *rel);
/* Writes text to base/rel (created or truncated). */
void put(const fx *f, const char *rel, const char *text);
void mkdir_in(const fx *f, const char *rel);
void rename_in(const fx *f, const char *from, const char *to);
void unlink_in(const fx *f, const char *rel);
/* Runs a shell command with %s replaced by base (once); fails on error. */
void sh(const fx *f, const char *fmt);

/* Writes root/<name> and waits for it: everything done before is then in a
 * batch at or before the returned index. */
size_t sentinel(fx *f, const char *name);

#endif
