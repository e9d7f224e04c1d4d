/* SPDX-License-Identifier: MIT */
/*
 * The set of paths of a pending batch.  A `git checkout` of 500 files raises
 * thousands of events on a few hundred paths; the set keeps one entry per
 * path so that the batch stays as small as the change.  Open addressing with
 * linear probing, grown at half load.
 */
#include "watch_int.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a: short keys, no adversary (the paths are the author's own). */
static size_t hash_path(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

/* The slot of path[0..len) in slots[0..cap): its entry, or the empty slot
 * where it belongs. */
static watch_pathent *find_slot(watch_pathent *slots, size_t cap, const char *path, size_t len)
{
    size_t i = hash_path(path, len) & (cap - 1);
    for (;;) {
        watch_pathent *e = &slots[i];
        if (!e->path || (strncmp(e->path, path, len) == 0 && e->path[len] == '\0'))
            return e;
        i = (i + 1) & (cap - 1);
    }
}

static void grow(watch_pathset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    watch_pathent *slots = cd_xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < s->cap; i++) {
        watch_pathent *e = &s->slots[i];
        if (e->path)
            *find_slot(slots, cap, e->path, strlen(e->path)) = *e;
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
}

void watch_pathset_add(watch_pathset *s, const char *path, size_t len, bool born)
{
    if ((s->n + 1) * 2 > s->cap)
        grow(s);
    watch_pathent *e = find_slot(s->slots, s->cap, path, len);
    if (e->path)
        return;
    e->path = cd_xstrndup(path, len);
    e->born = born;
    s->n++;
}

watch_pathent *watch_pathset_take(watch_pathset *s, size_t *n)
{
    watch_pathent *out = cd_xmalloc((s->n ? s->n : 1) * sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].path)
            out[k++] = s->slots[i];
    free(s->slots);
    s->slots = NULL;
    s->cap = s->n = 0;
    *n = k;
    return out;
}

void watch_pathset_free(watch_pathset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i].path);
    free(s->slots);
    s->slots = NULL;
    s->cap = s->n = 0;
}
