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

/* The first event for a client at last_id that wants docs in full, for
 * item it (version V); snap and upd are the cached ones for docs. */
static int first_event(hub *h, const catalog_item *it, int64_t last_id, const hub_docs *docs,
                       hub_event *snap, hub_event *upd, hub_event **out, cd_err *err)
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
        int rc = hub_event_update(h, it->kind, it->name, last_id, v, docs, out, err);
        if (rc != CAT_NOT_FOUND)
            return rc; /* else: version last_id is not kept, send a snapshot */
    }
    if (snap && snap->version == v) {
        *out = hub_event_ref(snap);
        return 0;
    }
    return hub_event_snapshot(h, it, docs, out, err);
}

/* The cached events of st for a subscriber that wants docs (hub->mu held). */
static void cached(const hub_item *st, const hub_docs *docs, hub_event **snap, hub_event **upd)
{
    *snap = *upd = NULL;
    if (!st)
        return;
    if (!docs) {
        *snap = st->snapshot ? hub_event_ref(st->snapshot) : NULL;
        *upd = st->last_update ? hub_event_ref(st->last_update) : NULL;
    } else if (st->part_snapshot && hub_docs_same(st->part_docs, docs)) {
        *snap = hub_event_ref(st->part_snapshot);
    }
}

/* Keeps `first`, the snapshot or update a subscriber that wants docs got,
 * for the next ones (hub->mu held). */
static void keep(hub_item *st, const hub_docs *docs, hub_event *first)
{
    if (!first || first->version != st->version)
        return;
    if (docs) {
        if (first->is_snapshot && first != st->part_snapshot) {
            hub_event_unref(st->part_snapshot);
            hub_docs_unref(st->part_docs);
            st->part_snapshot = hub_event_ref(first);
            st->part_docs = hub_docs_ref((hub_docs *)docs);
        }
        return;
    }
    if (first->is_snapshot && (!st->snapshot || st->snapshot->version < first->version)) {
        hub_event_unref(st->snapshot);
        st->snapshot = hub_event_ref(first); /* share it with the next subscribers */
    }
    /* Likewise the update from the version before (a reconnect storm
     * after a restart, when the hub has not seen that commit). */
    if (!first->is_snapshot && first->base == first->version - 1 &&
        (!st->last_update || st->last_update->version < first->version)) {
        hub_event_unref(st->last_update);
        st->last_update = hub_event_ref(first);
    }
}

hub_status hub_subscribe_item(hub *h, hub_sub *sub, const char *kind, const char *name,
                              int64_t last_id, const char *documents, cd_err *err)
{
    hub_docs_unref(sub->docs);
    sub->docs = hub_docs_parse(documents);
    for (int attempt = 0;; attempt++) {
        pthread_mutex_lock(&h->mu);
        if (h->closed) {
            pthread_mutex_unlock(&h->mu);
            return HUB_CLOSED;
        }
        uint64_t seq0 = h->seq;
        hub_item *st = hub_state_find(h, kind, name);
        hub_event *snap, *upd;
        cached(st, sub->docs, &snap, &upd);
        pthread_mutex_unlock(&h->mu);

        catalog_item it = {0};
        hub_event *first = NULL;
        catalog_status rc = catalog_item_get(h->cfg.cat, kind, name, &it, err);
        const catalog_link *link = sub->link[0] ? catalog_link_of(&it, sub->link) : NULL;
        if (rc == CAT_OK) {
            sub->drafts =
                sub->link[0] ? link && !link->version : catalog_sees_drafts(sub->user, &it);
            sub->pinned = link && link->version;
            sub->expires_at = link ? link->expires_at : 0;
        }
        if (rc == CAT_OK && !hub_may_read(sub, &it))
            rc = cd_err_set(err, CAT_NOT_FOUND, "no item %s/%s", kind, name);
        /* A reader follows the published version (the latest while none
         * is); a share link shows its version, or follows the latest. */
        catalog_item view = it;
        view.version = link ? (link->version ? link->version : it.version)
                            : catalog_version_for(sub->user, &it);
        if (rc == CAT_OK)
            rc = first_event(h, &view, last_id, sub->docs, snap, upd, &first, err);
        hub_event_unref(snap);
        hub_event_unref(upd);
        if (rc != CAT_OK) {
            catalog_item_clear(&it);
            return hub_status_of(rc, err);
        }

        pthread_mutex_lock(&h->mu);
        st = hub_state_find(h, kind, name);
        bool raced = h->closed || (st ? st->version > it.version : h->seq != seq0) ||
                     (st && st->published != it.published_version);
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
        keep(st, sub->docs, first);
        sub->item = st;
        sub->version = view.version;
        hub_link(h, sub);
        if (sub->link[0])
            pthread_cond_signal(&h->cv); /* the thread's next deadline may be its expiry */
        hub_push(h, sub, hub_event_retry());
        if (first && first->is_snapshot)
            hub_push_snapshot(h, sub, first);
        else if (first)
            hub_push(h, sub, first);
        pthread_mutex_unlock(&h->mu);
        hub_event_unref(first);
        catalog_item_clear(&it);
        return HUB_OK;
    }
}

hub_event *hub_catch_up(hub *h, const catalog_item *it, int64_t v, int64_t from, bool have_upd)
{
    bool behind = false;
    pthread_mutex_lock(&h->mu);
    hub_item *st = hub_state_find(h, it->kind, it->name);
    for (hub_sub *sub = st ? st->subs : NULL; sub && !behind; sub = sub->next)
        behind = !sub->docs && sub->version < v && (sub->version != from || !have_upd) &&
                 hub_follows_latest(sub, it);
    pthread_mutex_unlock(&h->mu);
    if (!behind)
        return NULL;
    hub_event *snap = NULL;
    cd_err err = {0};
    if (hub_event_snapshot(h, it, NULL, &snap, &err) != 0) {
        cd_log("error", "sse", "msg=\"snapshot not built\" item=%s/%s version=%lld err=\"%s\"",
               it->kind, it->name, (long long)it->version, err.msg);
        return NULL;
    }
    return snap;
}

hub_status hub_subscribe_global(hub *h, hub_sub *sub, cd_err *err)
{
    for (int attempt = 0;; attempt++) {
        pthread_mutex_lock(&h->mu);
        bool closed = h->closed;
        uint64_t seq0 = h->seq;
        pthread_mutex_unlock(&h->mu);
        if (closed)
            return HUB_CLOSED;
        hub_event *snap = NULL;
        catalog_status rc = hub_event_global_snapshot(h, sub->user, &snap, err);
        if (rc != CAT_OK)
            return hub_status_of(rc, err);
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
        hub_push_snapshot(h, sub, snap);
        pthread_mutex_unlock(&h->mu);
        hub_event_unref(snap);
        return HUB_OK;
    }
}
