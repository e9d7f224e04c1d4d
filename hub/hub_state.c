/* SPDX-License-Identifier: MIT */
/*
 * The hub's state and life cycle: the items it knows (a hash table of
 * small states by kind and name), the lists of subscribers (per item, the
 * global stream, and the keep-alive order), its counters, and creating,
 * starting, shutting down and freeing it.
 *
 * Every item has a small state (owner, visibility, latest version, cached
 * snapshot and last update) so that subscribing needs no rendering in the
 * common case, and so that events about items nobody subscribed to reach
 * the right global subscribers.  The keep-alive list holds every linked
 * subscriber ordered by the time of its last event, oldest first, so that
 * the hub's thread (hub.c, hub_timers.c) sleeps until the head is due.
 */
#include "hub_int.h"

#include <stdlib.h>
#include <string.h>

int64_t hub_now(const hub *h)
{
    return h->cfg.now_ms ? h->cfg.now_ms() : cd_mono_ms();
}

/* ---- item states (hub->mu held) -------------------------------------- */

static uint64_t hash_of(const char *kind, const char *name)
{
    return cd_hash_more(cd_hash_more(CD_HASH_SEED, kind, strlen(kind) + 1), name, strlen(name));
}

hub_item *hub_state_find(hub *h, const char *kind, const char *name)
{
    for (cd_hnode *n = cd_htab_first(&h->table, hash_of(kind, name)); n; n = cd_htab_next(n)) {
        hub_item *st = CD_CONTAINER_OF(n, hub_item, node);
        if (!strcmp(st->kind, kind) && !strcmp(st->name, name))
            return st;
    }
    return NULL;
}

hub_item *hub_state_get(hub *h, const catalog_item *it)
{
    hub_item *st = hub_state_find(h, it->kind, it->name);
    if (!st) {
        st = cd_xcalloc(1, sizeof *st);
        memcpy(st->kind, it->kind, sizeof st->kind);
        memcpy(st->name, it->name, sizeof st->name);
        cd_htab_add(&h->table, &st->node, hash_of(it->kind, it->name));
        st->published = it->published_version; /* later, hub_apply_updated's to change */
    }
    free(st->owner);
    st->owner = cd_xstrdup(it->owner ? it->owner : "");
    st->is_public = it->visibility == CAT_PUBLIC;
    if (it->version > st->version)
        st->version = it->version;
    return st;
}

void hub_state_remove(hub *h, hub_item *st)
{
    cd_htab_del(&h->table, &st->node);
    hub_event_unref(st->snapshot);
    hub_event_unref(st->last_update);
    hub_event_unref(st->part_snapshot);
    hub_docs_unref(st->part_docs);
    free(st->owner);
    free(st);
}

/* ---- subscriber lists (hub->mu held) -------------------------------- */

static void ka_unlink(hub *h, hub_sub *sub)
{
    if (sub->ka_prev)
        sub->ka_prev->ka_next = sub->ka_next;
    else
        h->ka_head = sub->ka_next;
    if (sub->ka_next)
        sub->ka_next->ka_prev = sub->ka_prev;
    else
        h->ka_tail = sub->ka_prev;
    sub->ka_prev = sub->ka_next = NULL;
}

static void ka_append(hub *h, hub_sub *sub)
{
    bool was_empty = !h->ka_head;
    sub->ka_prev = h->ka_tail;
    sub->ka_next = NULL;
    if (h->ka_tail)
        h->ka_tail->ka_next = sub;
    else
        h->ka_head = sub;
    h->ka_tail = sub;
    if (was_empty)
        pthread_cond_signal(&h->cv); /* the thread may be waiting with no deadline */
}

void hub_ka_requeue(hub *h, hub_sub *sub, int64_t now)
{
    sub->last_ms = now;
    ka_unlink(h, sub);
    ka_append(h, sub);
}

static hub_sub **list_of(hub *h, hub_sub *sub)
{
    return sub->global ? &h->global : &sub->item->subs;
}

void hub_link(hub *h, hub_sub *sub)
{
    hub_sub **head = list_of(h, sub);
    sub->prev = NULL;
    sub->next = *head;
    if (*head)
        (*head)->prev = sub;
    *head = sub;
    sub->linked = true;
    sub->refs++;
    sub->last_ms = hub_now(h);
    ka_append(h, sub);
    if (sub->global)
        h->n_global_subs++;
    else
        h->n_item_subs++;
    if (!sub->global && sub->link[0])
        h->n_link_subs++;
}

void hub_unlink(hub *h, hub_sub *sub)
{
    if (!sub->linked)
        return;
    if (sub->item || sub->global) {
        hub_sub **head = list_of(h, sub);
        if (sub->prev)
            sub->prev->next = sub->next;
        else
            *head = sub->next;
        if (sub->next)
            sub->next->prev = sub->prev;
    }
    sub->prev = sub->next = NULL;
    ka_unlink(h, sub);
    sub->linked = false;
    sub->refs--;
    if (sub->global)
        h->n_global_subs--;
    else
        h->n_item_subs--;
    if (!sub->global && sub->link[0])
        h->n_link_subs--;
}

/* ---- life cycle ----------------------------------------------------- */

hub *hub_new(const hub_config *cfg)
{
    hub *h = cd_xcalloc(1, sizeof *h);
    h->cfg = *cfg;
    if (!h->cfg.max_events)
        h->cfg.max_events = HUB_QUEUE_EVENTS;
    if (!h->cfg.max_bytes)
        h->cfg.max_bytes = HUB_QUEUE_BYTES;
    if (h->cfg.keepalive_ms <= 0)
        h->cfg.keepalive_ms = HUB_KEEPALIVE_MS;
    pthread_mutex_init(&h->mu, NULL);
    cd_cond_init_mono(&h->cv);
    return h;
}

int hub_load(hub *h, cd_err *err)
{
    catalog_item *items = NULL;
    size_t n = 0;
    int rc = catalog_item_list(h->cfg.cat, NULL, &items, &n, err);
    if (rc != CAT_OK)
        return rc;
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < n; i++)
        hub_state_get(h, &items[i]);
    pthread_mutex_unlock(&h->mu);
    catalog_items_free(items, n);
    return 0;
}

int hub_start(hub *h, cd_err *err)
{
    if (hub_load(h, err) != 0)
        return -1;
    if (pthread_create(&h->thread, NULL, hub_run, h) != 0)
        return cd_err_set(err, -1, "cannot start the event hub thread");
    h->started = true;
    return 0;
}

void hub_shutdown(hub *h)
{
    pthread_mutex_lock(&h->mu);
    h->closed = true;
    h->stop = true;
    for (hub_sub *sub = h->ka_head; sub; sub = sub->ka_next) {
        pthread_mutex_lock(&sub->mu);
        sub->closing = true;
        hub_sub_wake(sub);
        pthread_mutex_unlock(&sub->mu);
    }
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    if (h->started) {
        pthread_join(h->thread, NULL);
        h->started = false;
    }
}

void hub_free(hub *h)
{
    if (!h)
        return;
    if (h->started)
        hub_shutdown(h);
    for (cd_hnode *n; (n = cd_htab_any(&h->table));)
        hub_state_remove(h, CD_CONTAINER_OF(n, hub_item, node));
    for (hub_change *c = h->q_head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    cd_htab_free(&h->table);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}

void hub_stats_get(hub *h, hub_stats *out)
{
    pthread_mutex_lock(&h->mu);
    out->item_subs = h->n_item_subs;
    out->global_subs = h->n_global_subs;
    pthread_mutex_unlock(&h->mu);
    out->events = atomic_load_explicit(&h->events, memory_order_relaxed);
    out->overflows = atomic_load_explicit(&h->overflows, memory_order_relaxed);
    out->change_retries = atomic_load_explicit(&h->change_retries, memory_order_relaxed);
}
