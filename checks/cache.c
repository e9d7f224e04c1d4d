/* SPDX-License-Identifier: MIT */
/*
 * The facts cache: facts by "SHA-256 path", in a table (cd_htab) plus a
 * list from the least to the most recently used, under one mutex.  At
 * most max entries are kept; the least recently used go first.  Facts are
 * refcounted so that a run keeps using facts the cache has just dropped.
 */
#include "checks_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct chk_cache {
    pthread_mutex_t mu;
    cd_htab table;
    size_t max;
    cd_list lru; /* the least recently used first */
};

chk_cache *chk_cache_new(size_t max_files)
{
    chk_cache *c = cd_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->max = max_files ? max_files : 1;
    return c;
}

void chk_cache_free(chk_cache *c)
{
    if (!c)
        return;
    for (cd_lnode *n = c->lru.head, *next; n; n = next) {
        next = n->next;
        chk_facts_free(CD_CONTAINER_OF(n, chk_facts,
                                       lru)); /* no run holds any more references: see checks.h */
    }
    cd_htab_free(&c->table);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static chk_facts *find(chk_cache *c, const char *key, uint64_t hash)
{
    for (cd_hnode *n = cd_htab_first(&c->table, hash); n; n = cd_htab_next(n)) {
        chk_facts *f = CD_CONTAINER_OF(n, chk_facts, node);
        if (!strcmp(f->key, key))
            return f;
    }
    return NULL;
}

/* Drops the cache's reference of f (the lock is held). */
static void drop(chk_cache *c, chk_facts *f)
{
    cd_htab_del(&c->table, &f->node);
    cd_list_remove(&c->lru, &f->lru);
    if (--f->refcount == 0)
        chk_facts_free(f);
}

void chk_cache_key(cd_buf *key, const char *sha256, const char *path)
{
    cd_buf_printf(key, "%s %s", sha256, path);
}

chk_facts *chk_cache_get(chk_cache *c, const char *key)
{
    pthread_mutex_lock(&c->mu);
    chk_facts *f = find(c, key, cd_hash_str(key));
    if (f) {
        f->refcount++;
        cd_list_remove(&c->lru, &f->lru);
        cd_list_push_back(&c->lru, &f->lru);
    }
    pthread_mutex_unlock(&c->mu);
    return f;
}

chk_facts *chk_cache_put(chk_cache *c, const char *key, chk_facts *f)
{
    pthread_mutex_lock(&c->mu);
    uint64_t hash = cd_hash_str(key);
    chk_facts *have = find(c, key, hash);
    if (have) { /* another run made them meanwhile: use those */
        have->refcount++;
    } else {
        f->key = cd_xstrdup(key);
        f->refcount++;
        cd_htab_add(&c->table, &f->node, hash);
        cd_list_push_back(&c->lru, &f->lru);
        while (c->table.n > c->max)
            drop(c, CD_CONTAINER_OF(c->lru.head, chk_facts, lru));
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
