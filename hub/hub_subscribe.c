/* SPDX-License-Identifier: MIT */
/*
 * Joining a stream: the first events a new subscriber gets, and its
 * registration with the hub, without a gap or a repeat.
 *
 * The first event is chosen from Last-Event-ID (CONTRACT "Server-sent
 * events"): nothing when the client has the current version, one update
 * from its version when that version is kept, else a snapshot.  Snapshots
 * and the latest update are cached in the item's hub state and shared.  The
 * event is built outside the hub lock; registration then checks, under the
 * lock, that no newer version was applied in between (else it starts
 * over), and records the version the client will be at, so that the hub
 * thread sends it exactly the updates past that.  A subscriber the hub
 * thread finds further behind than one version (after a resync of the
 * catalog's change stream) gets a snapshot in place: hub_catch_up().
 */
#include "hub_int.h"

#include <string.h>

#define ATTEMPTS 5

/* The first event for a client at last_id, for item it (version V). */
static int first_event(hub *h, const catalog_item *it, int64_t last_id, hub_event *snap,
                       hub_event *upd, hub_event **out, cd_err *err)
{
    int64_t v = it->version;
    *out = NULL;
    if (last_id == v)
        return 0;
    if (last_id >= 0 && last_id < v) {
        if (upd && upd->base == last_id && upd->version == v) {
            *out = hub_event_ref(upd);
            return 0;
        }
        int rc = hub_event_update(h, it->kind, it->name, last_id, v, out, err);
        if (rc != CAT_NOT_FOUND)
            return rc; /* else: version last_id is not kept, send a snapshot */
    }
    if (snap && snap->version == v) {
        *out = hub_event_ref(snap);
        return 0;
    }
    return hub_event_snapshot(h, it, out, err);
}

int hub_subscribe_item(hub *h, hub_sub *sub, const char *kind, const char *name, int64_t last_id,
                       cd_err *err)
{
    for (int attempt = 0;; attempt++) {
        pthread_mutex_lock(&h->mu);
        if (h->closed) {
            pthread_mutex_unlock(&h->mu);
            return HUB_CLOSED;
        }
        uint64_t seq0 = h->seq;
        hub_item *st = hub_state_find(h, kind, name);
        hub_event *snap = st && st->snapshot ? hub_event_ref(st->snapshot) : NULL;
        hub_event *upd = st && st->last_update ? hub_event_ref(st->last_update) : NULL;
        pthread_mutex_unlock(&h->mu);

        catalog_item it = {0};
        hub_event *first = NULL;
        int rc = catalog_item_get(h->cfg.cat, kind, name, &it, err);
        if (rc == CAT_OK)
            rc = first_event(h, &it, last_id, snap, upd, &first, err);
        hub_event_unref(snap);
        hub_event_unref(upd);
        if (rc != CAT_OK) {
            catalog_item_clear(&it);
            return rc;
        }

        pthread_mutex_lock(&h->mu);
        st = hub_state_find(h, kind, name);
        bool raced = h->closed || (st ? st->version > it.version : h->seq != seq0);
        if (raced && attempt + 1 < ATTEMPTS && !h->closed) {
            pthread_mutex_unlock(&h->mu);
            hub_event_unref(first);
            catalog_item_clear(&it);
            continue;
        }
        if (h->closed) {
            pthread_mutex_unlock(&h->mu);
            hub_event_unref(first);
            catalog_item_clear(&it);
            return HUB_CLOSED;
        }
        st = hub_state_get(h, &it);
        if (first && first->is_snapshot && first->version == st->version &&
            (!st->snapshot || st->snapshot->version < first->version)) {
            hub_event_unref(st->snapshot);
            st->snapshot = hub_event_ref(first); /* share it with the next subscribers */
        }
        /* Likewise the update from the version before (a reconnect storm
         * after a restart, when the hub has not seen that commit). */
        if (first && !first->is_snapshot && first->version == st->version &&
            first->base == first->version - 1 &&
            (!st->last_update || st->last_update->version < first->version)) {
            hub_event_unref(st->last_update);
            st->last_update = hub_event_ref(first);
        }
        sub->item = st;
        sub->version = it.version;
        hub_link(h, sub);
        hub_push(h, sub, hub_event_retry());
        if (first)
            hub_push(h, sub, first);
        pthread_mutex_unlock(&h->mu);
        hub_event_unref(first);
        catalog_item_clear(&it);
        return 0;
    }
}

hub_event *hub_catch_up(hub *h, const catalog_item *it, int64_t v, int64_t from, bool have_upd)
{
    bool behind = false;
    pthread_mutex_lock(&h->mu);
    hub_item *st = hub_state_find(h, it->kind, it->name);
    for (hub_sub *sub = st ? st->subs : NULL; sub && !behind; sub = sub->next)
        behind = sub->version < v && (sub->version != from || !have_upd);
    pthread_mutex_unlock(&h->mu);
    if (!behind)
        return NULL;
    hub_event *snap = NULL;
    cd_err err = {0};
    if (hub_event_snapshot(h, it, &snap, &err) != 0) {
        cd_log("error", "sse", "msg=\"snapshot not built\" item=%s/%s version=%lld err=\"%s\"",
               it->kind, it->name, (long long)it->version, err.msg);
        return NULL;
    }
    return snap;
}

int hub_subscribe_global(hub *h, hub_sub *sub, cd_err *err)
{
    for (int attempt = 0;; attempt++) {
        pthread_mutex_lock(&h->mu);
        bool closed = h->closed;
        uint64_t seq0 = h->seq;
        pthread_mutex_unlock(&h->mu);
        if (closed)
            return HUB_CLOSED;
        hub_event *snap = NULL;
        int rc = hub_event_global_snapshot(h, sub->user, &snap, err);
        if (rc != CAT_OK)
            return rc;
        pthread_mutex_lock(&h->mu);
        if (h->closed || (h->seq != seq0 && attempt + 1 < ATTEMPTS)) {
            closed = h->closed;
            pthread_mutex_unlock(&h->mu);
            hub_event_unref(snap);
            if (closed)
                return HUB_CLOSED;
            continue;
        }
        sub->global = true;
        hub_link(h, sub);
        hub_push(h, sub, hub_event_retry());
        hub_push(h, sub, snap);
        pthread_mutex_unlock(&h->mu);
        hub_event_unref(snap);
        return 0;
    }
}
