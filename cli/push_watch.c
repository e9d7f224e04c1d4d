/* SPDX-License-Identifier: MIT */
/*
 * `content push --watch`: the folder watcher (watch/) turns each burst of
 * saves into one batch; each batch runs the same incremental push as
 * `content push`, on this (the main) thread, with the previous scan's
 * hashes reused so that only the files that changed are read again.
 *
 * The watcher's delivery thread only records that a batch came and wakes
 * the main thread through an eventfd: saves made while a push runs become
 * the next push.  A push that fails (the server down, the network gone) is
 * retried with a growing delay, so the server catches up when it returns.
 * The ignore rules also keep editors' temporary files from waking us at
 * all; a changed .contentignore is re-read and the watch rescanned.  The
 * checks after each push keep what they learnt of each file in a cache,
 * so a push checks again only the documents that changed.
 */
#include "cli_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "watch.h"

#define RETRY_FIRST_MS     250
#define RETRY_MAX_MS       5000
#define CHECKS_CACHE_FILES 100000

typedef struct watcher {
    const char *dir;
    pthread_mutex_t mu; /* guards what follows; never held across watch_* */
    ignore_rules *ig;
    bool pending, rules_changed, gone, back;
    char *incomplete;     /* the watcher's message, to print */
    uint64_t batches;     /* delivered so far */
    cli_push_round round; /* the batches since the last push was due */
    int efd;
} watcher;

static bool ignore_cb(void *arg, const char *rel, bool is_dir)
{
    watcher *w = arg;
    pthread_mutex_lock(&w->mu);
    bool out = ignore_path(w->ig, rel, is_dir);
    pthread_mutex_unlock(&w->mu);
    return out;
}

static void batch_cb(void *arg, const watch_batch *b)
{
    watcher *w = arg;
    pthread_mutex_lock(&w->mu);
    w->batches++;
    if (!w->pending) {
        w->round.first = w->batches;
        w->round.event_ns = b->first_event_ns;
    }
    w->round.last = w->batches;
    w->pending = true;
    for (size_t i = 0; i < b->npaths; i++)
        if (!strcmp(b->paths[i], ".contentignore"))
            w->rules_changed = true;
    if (b->flags & WATCH_ROOT_GONE)
        w->gone = true, w->back = false;
    if (b->flags & WATCH_ROOT_BACK)
        w->gone = false, w->back = w->rules_changed = true;
    if ((b->flags & WATCH_INCOMPLETE) && b->error && !w->incomplete)
        w->incomplete = cd_xstrdup(b->error);
    pthread_mutex_unlock(&w->mu);
    uint64_t one = 1;
    ssize_t n = write(w->efd, &one, sizeof one);
    (void)n;
}

/* The rules for dir: built in, then dir/.contentignore (if readable). */
static ignore_rules *load_rules(const char *dir)
{
    ignore_rules *ig = NULL;
    cd_err err;
    if (ignore_load_folder(dir, &ig, &err) != 0)
        cli_error("push: %s", err.msg); /* the push itself will fail on it */
    return ig;
}

/* Swaps in freshly read rules, then has the watcher rescan with them. */
static void reload_rules(watcher *w, watch_folder *wf)
{
    ignore_rules *fresh = load_rules(w->dir), *old;
    pthread_mutex_lock(&w->mu);
    old = w->ig;
    w->ig = fresh;
    pthread_mutex_unlock(&w->mu);
    ignore_free(old);
    watch_rescan(wf);
}

/* Waits for a batch, Ctrl-C or the retry delay (ms; < 0: none). */
static void wait_event(watcher *w, int delay_ms)
{
    struct pollfd fds[2] = {{.fd = w->efd, .events = POLLIN},
                            {.fd = cli_interrupt_fd(), .events = POLLIN}};
    if (poll(fds, 2, delay_ms) > 0 && (fds[0].revents & POLLIN)) {
        uint64_t count;
        ssize_t n = read(w->efd, &count, sizeof count);
        (void)n;
    }
}

/* Takes what the callbacks recorded; true when a push is due (its
 * batches then in *round). */
static bool take_state(watcher *w, watch_folder *wf, cli_push_round *round)
{
    pthread_mutex_lock(&w->mu);
    bool due = w->pending, reload = w->rules_changed, gone = w->gone, back = w->back;
    *round = due ? w->round : (cli_push_round){0};
    w->round = (cli_push_round){0};
    char *incomplete = w->incomplete;
    w->pending = w->rules_changed = w->back = false;
    w->incomplete = NULL;
    pthread_mutex_unlock(&w->mu);
    if (incomplete)
        cli_error("push: warning: %s (changes there may be missed)", incomplete);
    free(incomplete);
    if (gone && due)
        cli_error("push: %s is gone; waiting for it to come back", w->dir);
    if (back)
        fprintf(stderr, "content: push: %s is back\n", w->dir);
    if (reload && !gone)
        reload_rules(w, wf);
    return due && !gone;
}

/* The retry delay after a failed push: RETRY_FIRST_MS, then doubling up
 * to RETRY_MAX_MS (the previous delay is < 0 after a success). */
static int next_delay(int previous)
{
    if (previous < 0)
        return RETRY_FIRST_MS;
    return previous * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : previous * 2;
}

static int loop(cli_http *h, const cli_config *cfg, cli_push_opts *o, watcher *w, watch_folder *wf)
{
    cli_push_round round = {0};
    o->round = &round;
    int delay = -1; /* retry delay after a failed push, in ms */
    bool retry = false, pushed = true;
    int rc = cli_push(h, cfg, o, &retry);
    if (rc == CLI_USAGE)
        return rc;
    fprintf(stderr, "content: push: watching %s (Ctrl-C to stop)\n", o->dir);
    for (;;) {
        /* A failure that the same push cannot fix (a refused upload, a bad
         * file name) waits for the next save instead of being retried. */
        if (pushed && rc != CLI_OK && !retry)
            fprintf(stderr, "content: push: waiting for the next save to push again\n");
        pushed = false;
        delay = rc == CLI_OK || !retry ? -1 : next_delay(delay);
        wait_event(w, delay);
        if (cli_interrupted())
            return CLI_OK;
        if (take_state(w, wf, &round) || delay >= 0) {
            rc = cli_push(h, cfg, o, &retry);
            pushed = true;
        }
    }
}

int cli_push_watch(cli_http *h, const cli_config *cfg, const cli_push_opts *opts)
{
    folder_tree cache = {0};
    cli_push_known known = {0};
    cli_front_memo front = {0};
    cli_push_opts o = *opts;
    o.cache = &cache;
    o.known = &known;
    o.front = &front;
    o.quiet_unchanged = true;
    o.watch = true;
    o.checks.cache = chk_cache_new(CHECKS_CACHE_FILES); /* each push renders what changed */
    watcher w = {.dir = o.dir, .ig = load_rules(o.dir)};
    pthread_mutex_init(&w.mu, NULL);
    w.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    watch_options wo = {.quiet_ms = o.quiet_ms,
                        .max_delay_ms = o.max_delay_ms,
                        .ignore = ignore_cb,
                        .ignore_arg = &w};
    watch_folder *wf = NULL;
    cd_err err;
    int rc;
    if (w.efd < 0) {
        cli_error("push: cannot watch %s: %s", o.dir, strerror(errno));
        rc = CLI_FAIL;
    } else if (watch_start(o.dir, &wo, batch_cb, &w, &wf, &err) != WATCH_OK) {
        cli_error("push: cannot watch %s: %s", o.dir, err.msg);
        rc = CLI_FAIL;
    } else {
        rc = loop(h, cfg, &o, &w, wf);
    }
    watch_free(wf);
    if (w.efd >= 0)
        close(w.efd);
    ignore_free(w.ig);
    free(w.incomplete);
    pthread_mutex_destroy(&w.mu);
    folder_tree_clear(&cache);
    json_decref(known.item);
    cli_front_memo_clear(&front);
    chk_cache_free(o.checks.cache);
    return rc;
}
