/* SPDX-License-Identifier: MIT */
/*
 * Documents made ready while a push is still arriving: a client that names
 * the path of a markdown blob when it uploads it (the Content-Path header
 * of PUT /api/v1/blobs/SHA256, docs/api.md) lets the server render it and
 * make its check facts at once, in the background, so that the commit that
 * follows the last upload finds its ASTs, stubs and facts in the caches
 * instead of making a thousand of them while the client waits.
 *
 * A few threads, started with the first document, take them from a bounded
 * queue; when the queue is full a document is left for the commit, which
 * makes whatever it does not find, as it does without a hint.  A hint is
 * never trusted: the render depends on the blob's bytes alone, and the
 * facts are cached under the blob's digest and the hinted path, so a
 * version only uses them when it holds that blob at that path.
 */
#include "commit_int.h"

#include <stdlib.h>
#include <string.h>

#define WARM_THREADS 2    /* as many renders as a small machine's workers */
#define WARM_QUEUE   4096 /* documents waiting: a big course's worth */

typedef struct {
    char sha[CD_SHA256_HEX];
    char *path;
} warm_job;

struct commit_warm {
    pthread_mutex_t mu;
    pthread_cond_t cv, idle;
    warm_job q[WARM_QUEUE];
    size_t head, len, busy;
    uint64_t taken, finished; /* documents taken from the queue, and made */
    bool stop;
    pthread_t th[WARM_THREADS];
    unsigned started;
};

static void warm_one(commit_path *s, const warm_job *j)
{
    commit_ast *a = NULL;
    cd_err err = {0};
    if (commit_render_get(s, j->sha, &a, &err) != COMMIT_RENDER_OK)
        return; /* the commit meets the failure again and reports it */
    commit_ast_unref(a);
    commit_checks_warm(s, j->sha, j->path);
}

static void *warm_worker(void *arg)
{
    commit_path *s = arg;
    commit_warm *w = s->warm;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->len && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        warm_job j = w->q[w->head];
        w->head = (w->head + 1) % WARM_QUEUE;
        w->len--;
        w->busy++;
        w->taken++;
        pthread_mutex_unlock(&w->mu);
        warm_one(s, &j);
        free(j.path);
        pthread_mutex_lock(&w->mu);
        w->busy--;
        w->finished++;
        pthread_cond_broadcast(&w->idle);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

commit_warm *commit_warm_new(void)
{
    commit_warm *w = cd_xcalloc(1, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_cond_init(&w->idle, NULL);
    return w;
}

void commit_warm_free(commit_warm *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < w->started; i++)
        pthread_join(w->th[i], NULL);
    for (size_t i = 0; i < w->len; i++)
        free(w->q[(w->head + i) % WARM_QUEUE].path);
    pthread_cond_destroy(&w->idle);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

bool commit_warm_document(commit_path *s, const char *sha, const char *path)
{
    commit_warm *w = s->warm;
    if (!cd_sha_valid(sha) || !path || !cd_path_is_markdown(path))
        return false;
    pthread_mutex_lock(&w->mu);
    bool queued = !w->stop && w->len < WARM_QUEUE;
    if (queued) {
        warm_job *j = &w->q[(w->head + w->len) % WARM_QUEUE];
        memcpy(j->sha, sha, CD_SHA256_HEX);
        j->path = cd_xstrdup(path);
        w->len++;
        while (w->started < WARM_THREADS &&
               pthread_create(&w->th[w->started], NULL, warm_worker, s) == 0)
            w->started++;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return queued;
}

void commit_warm_wait(commit_path *s)
{
    commit_warm *w = s->warm;
    pthread_mutex_lock(&w->mu);
    while ((w->len || w->busy) && w->started)
        pthread_cond_wait(&w->idle, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void commit_warm_settle(commit_path *s)
{
    commit_warm *w = s->warm;
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->len; i++)
        free(w->q[(w->head + i) % WARM_QUEUE].path);
    w->len = 0;
    /* only the documents being made now: not those another push's
     * uploads queue meanwhile */
    uint64_t target = w->taken;
    while (w->finished < target)
        pthread_cond_wait(&w->idle, &w->mu);
    pthread_mutex_unlock(&w->mu);
}
