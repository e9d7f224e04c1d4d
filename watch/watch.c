/* SPDX-License-Identifier: MIT */
/*
 * The public side of watch/: starting and stopping a watcher, its pending
 * batch, and its delivery thread, which turns a burst of events into one
 * callback (the debounce).
 *
 * The hub thread adds paths to the pending batch as events arrive.  The
 * delivery thread sleeps until a batch is pending, then until it is due:
 * at once when it is a complete save after a quiet folder (complete() below),
 * else the quiet window after its last event, or the maximum delay after its
 * first, whichever comes first.  It takes the batch, leaves out the paths
 * that were born within the batch and are gone again (an editor's temporary
 * file, vim's `4913` probe), sorts the rest and calls the callback without
 * holding any lock, so events arriving meanwhile start the next batch.
 */
#include "watch_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_QUIET_MS     50
#define DEFAULT_MAX_DELAY_MS 500

/* The pending batch ----------------------------------------------------- */

/* Something was added to the pending batch (w->mu held). */
static void noted(watch_folder *w)
{
    int64_t now = cd_mono_ns();
    if (!w->have) {
        w->have = true;
        w->first_ns = now;
        pthread_cond_signal(&w->cv);
    }
    w->last_ns = now;
    w->drained = false;
}

/* What a file's event says about its path.  A save of an existing file in
 * one complete step (written and closed, or renamed into place) is DONE; a
 * write not closed yet, a removal, a rename away, or a file that did not
 * exist before the batch or is still new from an earlier one (it may be an
 * editor's temporary file, renamed away in a moment) WAIT for the window; a
 * file born and gone again is GONE. */
static unsigned next_state(const watch_pathent *e, uint32_t mask)
{
    if (mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
        return e->born || e->open ? WATCH_P_WAIT : WATCH_P_DONE;
    if (mask & (IN_DELETE | IN_MOVED_FROM))
        return e->born ? WATCH_P_GONE : WATCH_P_WAIT;
    if ((mask & IN_ATTRIB) && e->state == WATCH_P_DONE)
        return WATCH_P_DONE; /* a saved file's mode or times set after the save */
    return WATCH_P_WAIT;
}

/* Whether the file just created at rel is a new regular file, to be written
 * and closed (a close-write follows).  A symbolic link, a hard link or a
 * special file is whole as soon as it exists, and one already gone has its
 * removal queued behind. */
static bool created_open(const watch_folder *w, const char *rel, size_t len)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "%s/%.*s", w->path, (int)len, rel);
    struct stat st;
    bool open = lstat(b.data, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1;
    cd_buf_free(&b);
    return open;
}

/* Sets e->open (w->mu held), counting the open files of the batch; the
 * delivery thread waits for the last one's close (or the maximum delay),
 * so it is woken when none is left. */
static void set_open(watch_folder *w, watch_pathent *e, bool open)
{
    if (e->open == open)
        return;
    e->open = open;
    if (open) {
        w->nopen++;
    } else if (--w->nopen == 0) {
        pthread_cond_signal(&w->cv);
    }
}

void watch_note_path(watch_folder *w, const char *rel, size_t len, bool born, uint32_t mask)
{
    bool created = (mask & IN_CREATE) && created_open(w, rel, len);
    pthread_mutex_lock(&w->mu);
    watch_pathent *e = watch_pathset_add(&w->pending, rel, len, born);
    /* A new file an earlier batch took while it was open is still new. */
    if (e->state == WATCH_P_NEW && w->fresh.table.n && watch_pathset_remove(&w->fresh, rel, len))
        set_open(w, e, true);
    unsigned st = mask ? next_state(e, mask) : WATCH_P_WAIT;
    if (mask & IN_CREATE)
        set_open(w, e, created);
    else if (mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO))
        set_open(w, e, false);
    if (!mask)
        w->wait = true;
    if (e->state != WATCH_P_NEW)
        w->nstate[e->state]--;
    w->nstate[st]++;
    e->state = (unsigned char)st;
    noted(w);
    pthread_mutex_unlock(&w->mu);
}

void watch_note_flags(watch_folder *w, unsigned flags, const char *error)
{
    pthread_mutex_lock(&w->mu);
    w->flags |= flags;
    if (error && !w->error)
        w->error = cd_xstrdup(error);
    w->wait = true;
    noted(w);
    pthread_mutex_unlock(&w->mu);
}

/* Whether the pending batch may go without waiting for the quiet window
 * (w->mu held): it started after a quiet window (so it is not the tail of
 * a burst: that folds into the next batch), every event of it has been read,
 * and every path in it was saved in one complete step or was born and is
 * gone again. */
static bool complete(const watch_folder *w)
{
    return w->have && w->drained && !w->wait && w->nstate[WATCH_P_DONE] > 0 &&
           w->nstate[WATCH_P_WAIT] == 0 && w->first_ns - w->prev_last_ns >= w->quiet_ns;
}

void watch_note_drained(watch_folder *w)
{
    pthread_mutex_lock(&w->mu);
    if (w->have && !w->drained) {
        w->drained = true;
        if (complete(w))
            pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

/* A batch taken from the pending state, owned by the delivery thread. */
typedef struct taken {
    watch_pathent *ents;
    size_t n;
    unsigned flags;
    char *error;
    int64_t first_ns;
} taken;

static taken take_pending(watch_folder *w)
{
    taken b = {.flags = w->flags, .error = w->error, .first_ns = w->first_ns};
    b.ents = watch_pathset_take(&w->pending, &b.n);
    for (size_t i = 0; i < b.n; i++)
        if (b.ents[i].open)
            (void)watch_pathset_add(&w->fresh, b.ents[i].path, strlen(b.ents[i].path), false);
    w->nopen = 0;
    w->flags = 0;
    w->error = NULL;
    w->have = false;
    w->wait = false;
    w->drained = false;
    w->prev_last_ns = w->last_ns;
    memset(w->nstate, 0, sizeof w->nstate);
    return b;
}

/* Delivery ---------------------------------------------------------------- */

/* Whether rel exists now (anything but a clear "no" counts as yes). */
static bool still_there(const watch_folder *w, const char *rel)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "%s/%s", w->path, rel);
    struct stat st;
    bool there = lstat(b.data, &st) == 0 || (errno != ENOENT && errno != ENOTDIR);
    cd_buf_free(&b);
    return there;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void deliver(watch_folder *w, taken *b)
{
    const char **paths = cd_xmalloc((b->n ? b->n : 1) * sizeof *paths);
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++)
        if (!b->ents[i].born || still_there(w, b->ents[i].path))
            paths[k++] = b->ents[i].path;
    qsort(paths, k, sizeof *paths, cmp_path);
    if (k > 0 || b->flags) {
        watch_batch batch = {
            .paths = paths,
            .npaths = k,
            .flags = b->flags,
            .error = b->error,
            .first_event_ns = b->first_ns,
        };
        w->cb(w->arg, &batch);
    }
    for (size_t i = 0; i < b->n; i++)
        free(b->ents[i].path);
    free(b->ents);
    free(b->error);
    free(paths);
}

/* The watcher whose delivery thread this is (NULL on other threads): lets
 * watch_stop() know it was called from a callback without reading
 * w->thread, which pthread_create() may not have stored yet. */
static __thread watch_folder *delivering;

static void *deliver_main(void *arg)
{
    watch_folder *w = arg;
    delivering = w;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        if (!w->have) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        /* A new file still open holds the batch past the window: a slow
         * writer's temporary file is renamed away once it is closed. */
        int64_t due = w->last_ns + w->quiet_ns;
        if (w->nopen > 0 || w->first_ns + w->max_delay_ns < due)
            due = w->first_ns + w->max_delay_ns;
        if (!complete(w) && cd_mono_ns() < due) {
            cd_cond_wait_until(&w->cv, &w->mu, (due + 999999) / 1000000);
            continue;
        }
        taken b = take_pending(w);
        pthread_mutex_unlock(&w->mu);
        deliver(w, &b);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* The API ----------------------------------------------------------------- */

static watch_folder *folder_new(char *path, const watch_options *opt, watch_batch_fn cb, void *arg)
{
    watch_folder *w = cd_xcalloc(1, sizeof *w);
    w->path = path;
    w->pathlen = strlen(path);
    w->cb = cb;
    w->arg = arg;
    unsigned quiet = opt && opt->quiet_ms ? opt->quiet_ms : DEFAULT_QUIET_MS;
    unsigned max = opt && opt->max_delay_ms ? opt->max_delay_ms : DEFAULT_MAX_DELAY_MS;
    w->quiet_ns = (int64_t)quiet * 1000000;
    w->max_delay_ns = (int64_t)(max < quiet ? quiet : max) * 1000000;
    w->ignore = opt ? opt->ignore : NULL;
    w->ignore_arg = opt ? opt->ignore_arg : NULL;
    pthread_mutex_init(&w->mu, NULL);
    cd_cond_init_mono(&w->cv);
    return w;
}

static void folder_free(watch_folder *w)
{
    watch_pathset_free(&w->pending);
    watch_pathset_free(&w->fresh);
    free(w->error);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->path);
    free(w);
}

watch_status watch_start(const char *dir, const watch_options *opt, watch_batch_fn cb, void *arg,
                         watch_folder **out, cd_err *err)
{
    *out = NULL;
    if (!dir || !cb)
        return cd_err_set(err, WATCH_EFAIL, "watch_start needs a folder and a callback");
    char *real = realpath(dir, NULL);
    struct stat st;
    if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        int e = real ? ENOTDIR : errno;
        free(real);
        return cd_err_set(err, WATCH_ENOTDIR, "%s: %s", dir, strerror(e));
    }
    watch_folder *w = folder_new(real, opt, cb, arg);
    watch_status rc = watch_hub_attach(w, err);
    if (rc) {
        folder_free(w);
        return rc;
    }
    /* Set before the thread exists: a callback may use its watcher at once. */
    *out = w;
    w->thread_started = true;
    if (pthread_create(&w->thread, NULL, deliver_main, w) != 0) {
        *out = NULL;
        w->thread_started = false;
        watch_hub_detach(w);
        folder_free(w);
        return cd_err_set(err, WATCH_EFAIL, "cannot start the delivery thread of %s", dir);
    }
    return WATCH_OK;
}

void watch_stop(watch_folder *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    bool first = !w->stop;
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (first)
        watch_hub_detach(w);
    /* From the callback, the delivery thread ends when the callback returns;
     * watch_free() joins it. */
    if (w->thread_started && delivering != w) {
        pthread_join(w->thread, NULL);
        w->thread_started = false;
    }
}

void watch_free(watch_folder *w)
{
    if (!w)
        return;
    watch_stop(w);
    folder_free(w);
}

void watch_rescan(watch_folder *w)
{
    watch_hub_rescan(w);
}

const char *watch_path(const watch_folder *w)
{
    return w->path;
}
