/* SPDX-License-Identifier: MIT */
/*
 * The set of paths of a pending batch.  A `git checkout` of 500 files raises
 * thousands of events on a few hundred paths; the set keeps one entry per
 * path so that the batch stays as small as the change (in common/'s hash
 * table).
 */
#include "watch_int.h"

#include <stdlib.h>
#include <string.h>

/* An entry of the set: the table links it by its path. */
typedef struct node {
    cd_hnode node;
    watch_pathent e;
} node;

static node *find(const watch_pathset *s, const char *path, size_t len, uint64_t h)
{
    for (cd_hnode *n = cd_htab_first(&s->table, h); n; n = cd_htab_next(n)) {
        node *e = CD_CONTAINER_OF(n, node, node);
        if (strncmp(e->e.path, path, len) == 0 && e->e.path[len] == '\0')
            return e;
    }
    return NULL;
}

watch_pathent *watch_pathset_add(watch_pathset *s, const char *path, size_t len, bool born)
{
    uint64_t h = cd_hash_more(CD_HASH_SEED, path, len);
    node *e = find(s, path, len, h);
    if (e)
        return &e->e;
    e = cd_xmalloc(sizeof *e);
    e->e.path = cd_xstrndup(path, len);
    e->e.born = born;
    e->e.open = false;
    e->e.state = WATCH_P_NEW;
    cd_htab_add(&s->table, &e->node, h);
    return &e->e;
}

bool watch_pathset_remove(watch_pathset *s, const char *path, size_t len)
{
    node *e = find(s, path, len, cd_hash_more(CD_HASH_SEED, path, len));
    if (!e)
        return false;
    cd_htab_del(&s->table, &e->node);
    free(e->e.path);
    free(e);
    return true;
}

watch_pathent *watch_pathset_take(watch_pathset *s, size_t *n)
{
    watch_pathent *out = cd_xmalloc((s->table.n ? s->table.n : 1) * sizeof *out);
    size_t k = 0;
    for (cd_hnode *h; (h = cd_htab_any(&s->table));) {
        cd_htab_del(&s->table, h);
        node *e = CD_CONTAINER_OF(h, node, node);
        out[k++] = e->e;
        free(e);
    }
    cd_htab_free(&s->table);
    *n = k;
    return out;
}

void watch_pathset_free(watch_pathset *s)
{
    for (cd_hnode *h; (h = cd_htab_any(&s->table));) {
        cd_htab_del(&s->table, h);
        node *e = CD_CONTAINER_OF(h, node, node);
        free(e->e.path);
        free(e);
    }
    cd_htab_free(&s->table);
}
