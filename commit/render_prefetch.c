/* SPDX-License-Identifier: MIT */
/*
 * Renders many documents of one commit at once: a first push of a course
 * brings a thousand new lessons, and rendering them one after the other
 * left all but one of the render workers idle (and waited for each
 * document's bytes in turn).  A few threads take the documents in turn and
 * put their ASTs in the render cache; the commit then walks them in order
 * as before and finds them there.  Errors are not reported here: the walk
 * meets them again and refuses the version with the right message.
 */
#include "commit_int.h"

#include <pthread.h>
#include <stdatomic.h>

#define PREFETCH_THREADS 4 /* renders in flight: the workers of a small machine, and reads */
#define PREFETCH_MIN     8 /* fewer documents: not worth a thread */

typedef struct {
    commit_path *s;
    const char *const *shas;
    size_t n;
    atomic_size_t next;
} prefetch;

static void *prefetch_worker(void *arg)
{
    prefetch *p = arg;
    for (size_t i; (i = atomic_fetch_add(&p->next, 1)) < p->n;) {
        commit_ast *a = NULL;
        cd_err err = {0};
        if (commit_render_get(p->s, p->shas[i], &a, &err) == COMMIT_RENDER_OK)
            commit_ast_unref(a);
    }
    return NULL;
}

void commit_render_prefetch(commit_path *s, const char *const *shas, size_t n)
{
    if (n < PREFETCH_MIN)
        return;
    prefetch p = {.s = s, .shas = shas, .n = n};
    atomic_init(&p.next, 0);
    cd_run_workers(PREFETCH_THREADS, prefetch_worker, &p);
}
