/* SPDX-License-Identifier: MIT */
/*
 * The one hash function (FNV-1a: short keys, no adversary — every key here
 * is an item id, a digest or an author's own path) and the one hash table:
 * intrusive, chained, grown at a load of two.  The table only links nodes
 * that live inside the caller's entries; comparing keys is the caller's,
 * who walks a chain with cd_htab_first()/cd_htab_next().
 */
#include "common.h"

#include <stdlib.h>

uint64_t cd_hash_more(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

uint64_t cd_hash_str(const char *s)
{
    uint64_t h = CD_HASH_SEED;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void grow(cd_htab *t)
{
    size_t nb = t->nb ? t->nb * 2 : 64;
    cd_hnode **b = cd_xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < t->nb; i++)
        for (cd_hnode *n = t->b[i], *next; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    free(t->b);
    t->b = b;
    t->nb = nb;
}

void cd_htab_add(cd_htab *t, cd_hnode *n, uint64_t hash)
{
    if (t->n >= 2 * t->nb)
        grow(t);
    n->hash = hash;
    n->next = t->b[hash & (t->nb - 1)];
    t->b[hash & (t->nb - 1)] = n;
    t->n++;
}

cd_hnode *cd_htab_first(const cd_htab *t, uint64_t hash)
{
    if (!t->nb)
        return NULL;
    cd_hnode *n = t->b[hash & (t->nb - 1)];
    while (n && n->hash != hash)
        n = n->next;
    return n;
}

cd_hnode *cd_htab_next(const cd_hnode *n)
{
    uint64_t hash = n->hash;
    for (n = n->next; n && n->hash != hash; n = n->next)
        ;
    return (cd_hnode *)n;
}

void cd_htab_del(cd_htab *t, cd_hnode *n)
{
    cd_hnode **pp = &t->b[n->hash & (t->nb - 1)];
    while (*pp != n)
        pp = &(*pp)->next;
    *pp = n->next;
    n->next = NULL;
    t->n--;
}

cd_hnode *cd_htab_any(const cd_htab *t)
{
    for (size_t i = 0; t->n && i < t->nb; i++)
        if (t->b[i])
            return t->b[i];
    return NULL;
}

cd_hnode *cd_htab_walk(const cd_htab *t, size_t *pos, const cd_hnode *n)
{
    if (n && n->next)
        return n->next;
    for (size_t i = n ? *pos + 1 : *pos; i < t->nb; i++)
        if (t->b[i]) {
            *pos = i;
            return t->b[i];
        }
    *pos = t->nb;
    return NULL;
}

void cd_list_push_front(cd_list *l, cd_lnode *n)
{
    n->prev = NULL;
    n->next = l->head;
    if (l->head)
        l->head->prev = n;
    else
        l->tail = n;
    l->head = n;
}

void cd_list_push_back(cd_list *l, cd_lnode *n)
{
    n->next = NULL;
    n->prev = l->tail;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
}

void cd_list_remove(cd_list *l, cd_lnode *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
}

void cd_htab_free(cd_htab *t)
{
    free(t->b);
    t->b = NULL;
    t->nb = t->n = 0;
}
