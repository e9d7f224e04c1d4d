/* SPDX-License-Identifier: MIT */
/*
 * The facts cache: facts by "SHA-256 NUL path", a chained hash table plus
 * a list from the least to the most recently used, under one mutex.  At
 * most max entries are kept; the least recently used go first.  Facts are
 * refcounted so that a run keeps using facts the cache has just dropped.
 */
#include "checks_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct chk_cache {
    pthread_mutex_t mu;
    chk_facts **buckets;
    size_t nbuckets, n, max;
    chk_facts *oldest, *newest;
};

chk_cache *chk_cache_new(size_t max_files)
{
    chk_cache *c = cd_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->max = max_files ? max_files : 1;
    c->nbuckets = 1024;
    while (c->nbuckets < c->max && c->nbuckets < ((size_t)1 << 24))
        c->nbuckets *= 2;
    c->buckets = cd_xcalloc(c->nbuckets, sizeof *c->buckets);
    return c;
}

void chk_cache_free(chk_cache *c)
{
    if (!c)
        return;
    for (chk_facts *f = c->oldest, *next; f; f = next) {
        next = f->newer;
        chk_facts_free(f); /* no run holds any more references: see checks.h */
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static size_t hash(const char *key)
{
    size_t h = 14695981039346656037u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

static void unlink_lru(chk_cache *c, chk_facts *f)
{
    if (f->older)
        f->older->newer = f->newer;
    else
        c->oldest = f->newer;
    if (f->newer)
        f->newer->older = f->older;
    else
        c->newest = f->older;
    f->older = f->newer = NULL;
}

static void push_newest(chk_cache *c, chk_facts *f)
{
    f->older = c->newest;
    f->newer = NULL;
    if (c->newest)
        c->newest->newer = f;
    else
        c->oldest = f;
    c->newest = f;
}

static chk_facts **slot(chk_cache *c, const char *key)
{
    chk_facts **p = &c->buckets[hash(key) & (c->nbuckets - 1)];
    while (*p && strcmp((*p)->key, key))
        p = &(*p)->hnext;
    return p;
}

/* Drops the cache's reference of f (the lock is held). */
static void drop(chk_cache *c, chk_facts *f)
{
    *slot(c, f->key) = f->hnext;
    unlink_lru(c, f);
    c->n--;
    if (--f->refcount == 0)
        chk_facts_free(f);
}

chk_facts *chk_cache_get(chk_cache *c, const char *key)
{
    pthread_mutex_lock(&c->mu);
    chk_facts *f = *slot(c, key);
    if (f) {
        f->refcount++;
        unlink_lru(c, f);
        push_newest(c, f);
    }
    pthread_mutex_unlock(&c->mu);
    return f;
}

chk_facts *chk_cache_put(chk_cache *c, const char *key, chk_facts *f)
{
    pthread_mutex_lock(&c->mu);
    chk_facts **s = slot(c, key), *have = *s;
    if (have) { /* another run made them meanwhile: use those */
        have->refcount++;
    } else {
        f->key = cd_xstrdup(key);
        f->refcount++;
        f->hnext = NULL;
        *s = f;
        push_newest(c, f);
        c->n++;
        while (c->n > c->max)
            drop(c, c->oldest);
    }
    pthread_mutex_unlock(&c->mu);
    if (have)
        chk_cache_release(c, f);
    return have ? have : f;
}

void chk_cache_release(chk_cache *c, chk_facts *f)
{
    if (!f)
        return;
    if (!c) {
        chk_facts_free(f);
        return;
    }
    pthread_mutex_lock(&c->mu);
    bool last = --f->refcount == 0;
    pthread_mutex_unlock(&c->mu);
    if (last)
        chk_facts_free(f);
}
