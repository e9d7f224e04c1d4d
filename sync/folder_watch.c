/* SPDX-License-Identifier: MIT */
/*
 * `contentd serve --watch DIR`: the threads around folder_items.c.  Each
 * watched folder has a watch/ watcher (whose batches only record which
 * top-level entries changed) and a worker thread that turns what was
 * recorded into a round of commits — the initial sync first, then one round
 * per batch, so a burst of saves is one version — and retries the commits
 * that failed because a store did.
 *
 * The ignore rules are the client's (ignore/): a path under an item folder
 * is judged by that folder's rules (built-in + its .contentignore), any
 * other path by the built-in rules, so editors' swap and temporary files
 * never even wake the worker.  When a folder's .contentignore changes, or a
 * new item folder brings one, the watcher rescans with the new rules.
 *
 * The watched folder itself may disappear (deleted, moved away): that is
 * logged, its items are kept, and when it is back everything is synced.
 */
#include "folder_watch_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- key sets ------------------------------------------------------------ */

bool fw_keys_has(const fw_keys *k, const char *s)
{
    for (size_t i = 0; i < k->n; i++)
        if (!strcmp(k->v[i], s))
            return true;
    return false;
}

void fw_keys_add(fw_keys *k, const char *s, size_t len)
{
    for (size_t i = 0; i < k->n; i++)
        if (!strncmp(k->v[i], s, len) && k->v[i][len] == '\0')
            return;
    k->v = cd_grow(k->v, k->n, &k->cap, 8, sizeof *k->v);
    k->v[k->n++] = cd_xstrndup(s, len);
}

void fw_keys_clear(fw_keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    memset(k, 0, sizeof *k);
}

/* ---- watch/ callbacks ---------------------------------------------------- */

/* On watch/'s inotify thread: the rules of the item folder rel is in. */
static bool ignore_cb(void *arg, const char *rel, bool is_dir)
{
    fw_dir *d = arg;
    const ignore_rules *builtins = d->sw->builtins;
    bool out;
    pthread_rwlock_rdlock(&d->rules_mu);
    if (d->root_item && d->nitems) {
        out = ignore_path(d->items[0]->ig, rel, is_dir);
    } else {
        const char *slash = strchr(rel, '/');
        if (!slash) {
            out = ignore_match(builtins, rel, is_dir);
        } else {
            size_t len = (size_t)(slash - rel);
            char seg[NAME_MAX + 1];
            snprintf(seg, sizeof seg, "%.*s", (int)(len < NAME_MAX ? len : NAME_MAX), rel);
            const fw_item *it = fw_find(d, rel, len);
            out = ignore_match(builtins, seg, true) ||
                  ignore_path(it ? it->ig : builtins, slash + 1, is_dir);
        }
    }
    pthread_rwlock_unlock(&d->rules_mu);
    return out;
}

/* On the folder's delivery thread: records what changed, wakes the worker. */
static void batch_cb(void *arg, const watch_batch *b)
{
    fw_dir *d = arg;
    int64_t now = cd_mono_ns();
    pthread_mutex_lock(&d->mu);
    d->batches.last = ++d->nbatches;
    if (!d->batches.first) {
        d->batches.first = d->batches.last;
        d->batches.event_ns = b->first_event_ns;
    }
    d->batches.delivered_ns = now;
    for (size_t i = 0; i < b->npaths; i++) {
        const char *p = b->paths[i], *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        fw_keys_add(&d->dirty, p, len);
        if (!strcmp(p, ".contentignore"))
            fw_keys_add(&d->rules_changed, "", 0);
        else if (slash && !strcmp(slash + 1, ".contentignore"))
            fw_keys_add(&d->rules_changed, p, len);
    }
    if (b->flags & WATCH_RESCAN)
        d->all = true;
    if (b->flags & WATCH_ROOT_GONE)
        d->gone = true, d->back = false;
    if (b->flags & WATCH_ROOT_BACK)
        d->gone = false, d->back = true;
    if ((b->flags & WATCH_INCOMPLETE) && b->error && !d->incomplete)
        d->incomplete = cd_xstrdup(b->error);
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* ---- the worker ---------------------------------------------------------- */

bool fw_stopping(fw_dir *d)
{
    pthread_mutex_lock(&d->mu);
    bool stop = d->stop;
    pthread_mutex_unlock(&d->mu);
    return stop;
}

/* What one round works on: taken from fw_dir under its lock. */
typedef struct fw_round {
    fw_keys dirty, rules_changed;
    bool all, gone, back;
    char *incomplete;
} fw_round;

static bool work_pending(const fw_dir *d)
{
    return d->dirty.n || d->all || d->gone || d->back || d->incomplete;
}

/* Waits until there is something to do (a batch, or a retry due); false
 * when the watch is stopping.  A folder that is gone retries nothing. */
static bool next_round(fw_dir *d, fw_round *r, bool initial)
{
    pthread_mutex_lock(&d->mu);
    for (;;) {
        if (d->stop) {
            pthread_mutex_unlock(&d->mu);
            return false;
        }
        int64_t next = d->was_gone ? -1 : fw_next_retry(d);
        if (initial || work_pending(d) || (next >= 0 && next <= cd_mono_ms()))
            break;
        if (next < 0) {
            pthread_cond_wait(&d->cv, &d->mu);
            continue;
        }
        cd_cond_wait_until(&d->cv, &d->mu, next);
    }
    r->dirty = d->dirty;
    r->rules_changed = d->rules_changed;
    r->all = d->all || initial;
    r->gone = d->gone;
    r->back = d->back;
    r->incomplete = d->incomplete;
    memset(&d->dirty, 0, sizeof d->dirty);
    memset(&d->rules_changed, 0, sizeof d->rules_changed);
    d->all = d->gone = d->back = false;
    d->incomplete = NULL;
    d->round = d->batches;
    d->round.taken_ns = cd_mono_ns();
    memset(&d->batches, 0, sizeof d->batches);
    pthread_mutex_unlock(&d->mu);
    if (!d->was_gone)
        fw_due_retries(d, cd_mono_ms(), &r->dirty);
    return true;
}

static void log_folder(const char *level, const char *msg, const fw_dir *d, const char *error)
{
    cd_buf b = CD_BUF_INIT;
    cd_log_kv(&b, "folder", d->path);
    if (error)
        cd_log_kv(&b, "error", error);
    fw_log(level, msg, &b);
}

/* The folder gained or lost its own index.md: it becomes one item, or
 * its subfolders become items again. */
static void switch_mode(fw_dir *d)
{
    fw_table_clear(d);
    fw_table_load(d);
    log_folder("info",
               d->root_item ? "the folder holds an index.md: it is one item now"
                            : "the folder lost its index.md: its subfolders are items again",
               d, NULL);
}

static void run_round(fw_dir *d, fw_round *r, bool initial)
{
    if (r->gone && !d->was_gone)
        log_folder("warn", "watched folder is gone; its items are kept; waiting for it", d, NULL);
    d->was_gone |= r->gone;
    if (r->back) {
        log_folder("info", "watched folder is back", d, NULL);
        d->was_gone = false;
        r->all = true;
    }
    if (r->incomplete)
        log_folder("warn", "part of the folder cannot be watched; changes there may be missed", d,
                   r->incomplete);
    if (d->was_gone)
        return;
    bool rescan = false;
    if (fw_is_item_folder(d->path) != d->root_item) {
        switch_mode(d);
        r->all = rescan = true;
    }
    fw_sync(d, &r->dirty, &r->rules_changed, r->all, initial, &rescan);
    if (rescan)
        watch_rescan(d->wf);
}

static void *worker(void *arg)
{
    fw_dir *d = arg;
    bool initial = true;
    fw_round r;
    while (next_round(d, &r, initial)) {
        run_round(d, &r, initial);
        initial = false;
        fw_keys_clear(&r.dirty);
        fw_keys_clear(&r.rules_changed);
        free(r.incomplete);
    }
    return NULL;
}

/* ---- start and stop ------------------------------------------------------ */

/* Refuses a watched folder that holds the data folder: every commit would
 * write there, and a watched item holding it would commit forever. */
static sync_status check_folder(const sync_config *cfg, const char *dir, cd_err *err)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return cd_err_set(err, SYNC_REFUSED, "--watch %s: %s", dir,
                          errno == ENOENT ? "no such folder" : strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cd_err_set(err, SYNC_REFUSED, "--watch %s: not a folder", dir);
    char *w = realpath(dir, NULL), *data = realpath(cfg->data_dir, NULL);
    sync_status rc = SYNC_OK;
    size_t n = w ? strlen(w) : 0;
    if (w && data && !strncmp(data, w, n) && (data[n] == '/' || data[n] == '\0' || n == 1))
        rc = cd_err_set(err, SYNC_REFUSED,
                        "--watch %s: the data folder %s is inside it; keep the data "
                        "folder (--data) out of watched folders",
                        dir, cfg->data_dir);
    free(w);
    free(data);
    return rc;
}

static sync_status dir_start(sync_watch *sw, fw_dir *d, const char *path, cd_err *err)
{
    d->sw = sw;
    d->path = cd_xstrdup(path);
    pthread_mutex_init(&d->mu, NULL);
    cd_cond_init_mono(&d->cv);
    pthread_rwlock_init(&d->rules_mu, NULL);
    fw_table_load(d);
    watch_options wo = {.quiet_ms = sw->quiet_ms,
                        .max_delay_ms = sw->max_delay_ms,
                        .ignore = ignore_cb,
                        .ignore_arg = d};
    if (watch_start(path, &wo, batch_cb, d, &d->wf, err) != WATCH_OK)
        return SYNC_REFUSED;
    if (pthread_create(&d->thread, NULL, worker, d) != 0)
        return cd_err_set(err, SYNC_REFUSED, "cannot start the watch thread for %s", path);
    d->thread_started = true;
    return SYNC_OK;
}

/* Stops d's worker, then its watcher, and frees what it holds.  The items
 * are left as they are, without a log line each. */
static void dir_stop(fw_dir *d)
{
    if (!d->path)
        return;
    if (d->thread_started) {
        pthread_mutex_lock(&d->mu);
        d->stop = true;
        pthread_cond_signal(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thread, NULL); /* a commit in progress finishes */
    }
    watch_free(d->wf); /* after the worker: it may have called watch_rescan() */
    for (size_t i = 0; i < d->nitems; i++)
        fw_item_free(d->items[i]);
    free(d->items);
    fw_keys_clear(&d->dirty);
    fw_keys_clear(&d->rules_changed);
    free(d->incomplete);
    pthread_rwlock_destroy(&d->rules_mu);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d->path);
}

sync_status sync_watch_check(const sync_config *cfg, cd_err *err)
{
    for (size_t i = 0; i < cfg->n_dirs; i++)
        if (check_folder(cfg, cfg->dirs[i], err) != 0)
            return SYNC_REFUSED;
    return SYNC_OK;
}

sync_status sync_watch_start(const sync_config *s, sync_watch **out, cd_err *err)
{
    *out = NULL;
    if (sync_watch_check(s, err) != 0)
        return SYNC_REFUSED;
    sync_watch *sw = cd_xcalloc(1, sizeof *sw);
    sw->cfg = *s;
    sw->builtins = ignore_new(true);
    sw->quiet_ms = s->quiet_ms;
    sw->max_delay_ms = s->max_delay_ms;
    pthread_mutex_init(&sw->claims_mu, NULL);
    sw->dirs = cd_xcalloc(s->n_dirs ? s->n_dirs : 1, sizeof *sw->dirs);
    sw->ndirs = s->n_dirs;
    for (size_t i = 0; i < sw->ndirs; i++) {
        cd_err werr = {0};
        if (dir_start(sw, &sw->dirs[i], s->dirs[i], &werr) != 0) {
            cd_err_set(err, SYNC_REFUSED, "--watch %s: %s", s->dirs[i], werr.msg);
            sync_watch_free(sw);
            return SYNC_REFUSED;
        }
        cd_buf b = CD_BUF_INIT;
        cd_log_kv(&b, "folder", s->dirs[i]);
        cd_buf_printf(&b, " quiet_ms=%u max_delay_ms=%u", sw->quiet_ms ? sw->quiet_ms : 50,
                      sw->max_delay_ms ? sw->max_delay_ms : 500);
        fw_log("info", "watching", &b);
    }
    *out = sw;
    return SYNC_OK;
}

void sync_watch_free(sync_watch *sw)
{
    if (!sw)
        return;
    for (size_t i = 0; i < sw->ndirs; i++)
        dir_stop(&sw->dirs[i]);
    free(sw->dirs);
    for (size_t i = 0; i < sw->nclaims; i++)
        free(sw->claims[i].folder);
    free(sw->claims);
    pthread_mutex_destroy(&sw->claims_mu);
    ignore_free(sw->builtins);
    free(sw);
}
