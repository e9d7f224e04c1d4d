/* SPDX-License-Identifier: MIT */
/*
 * The event hub: who is subscribed to what, and one thread that turns
 * catalog changes into events and sends the keep-alives.
 *
 * The catalog listener (hub_on_change) only queues the change and wakes the
 * hub thread, so a change from this process and one from another replica
 * (the MongoDB catalog's change stream) take the same path, in order.  The hub
 * thread builds each event once (from the catalog and the configured documents),
 * then, under the hub lock, puts a reference to it in the queue of every
 * subscriber that should get it and resumes the suspended ones.
 *
 * Every item has a small state (owner, visibility, latest version, cached
 * snapshot and last update) so that subscribing needs no rendering in the
 * common case, and so that a subscriber never misses or repeats a version:
 * it records the version its first event brings it to, and gets only the
 * updates past it.
 *
 * A change is never dropped: when the item cannot be read after it (a
 * catalog error, such as MongoDB briefly unavailable), the change stays at
 * the head of the queue and is retried with exponential backoff until the
 * item is read or is really gone (its delete follows); every failure is
 * logged and counted (contentd_sse_change_retries_total).  Only an error
 * other than unavailability that persists makes the hub give up on the
 * change, and then it closes the item's streams: their clients reconnect
 * with Last-Event-ID and catch up.
 *
 * The thread, the keep-alives and the hub's life cycle are hub_thread.c's.
 */
#include "hub_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_FIRST_MS 50
#define RETRY_MAX_MS   5000
/* An error that is not the catalog being unavailable (a document it cannot
 * read) is retried this many times, then the item's subscribers are sent
 * away to reconnect (and catch up from the catalog themselves), so that one
 * such item cannot hold up every other change for ever. */
#define RETRY_ERROR_ATTEMPTS 6

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

/* The state of an item, created from it when missing; refreshes owner and
 * visibility from it when it is given. */
hub_item *hub_state_get(hub *h, const catalog_item *it)
{
    hub_item *st = hub_state_find(h, it->kind, it->name);
    if (!st) {
        st = cd_xcalloc(1, sizeof *st);
        memcpy(st->kind, it->kind, sizeof st->kind);
        memcpy(st->name, it->name, sizeof st->name);
        cd_htab_add(&h->table, &st->node, hash_of(it->kind, it->name));
        st->published = it->published_version; /* later, apply_updated's to change */
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

/* ---- queueing (hub->mu held) ---------------------------------------- */

/* The queue is full: drop it and end the stream, so that a slow reader
 * costs the others nothing; it reconnects with Last-Event-ID.  A reader
 * that stopped reading would leave its connection waiting for the socket
 * to drain, so the transport is told to cut it as well. */
static void overflow(hub *h, hub_sub *sub)
{
    hub_sub_drain(sub);
    sub->dead = true;
    hub_sub_wake(sub);
    if (sub->attached && sub->t.cut)
        sub->t.cut(sub->t.arg);
    pthread_mutex_unlock(&sub->mu);
    hub_unlink(h, sub);
    atomic_fetch_add_explicit(&h->overflows, 1, memory_order_relaxed);
    cd_log("warn", "sse", "msg=\"slow subscriber disconnected\" user=%s",
           sub->user ? sub->user : "-");
}

/* Queues ev for sub; returns false when sub was dropped instead.  A
 * snapshot (first) is not counted against the bound in bytes while it is
 * the only one queued: the bound is about falling behind, and a snapshot
 * of any size must reach a new subscriber. */
static bool push(hub *h, hub_sub *sub, hub_event *ev, bool first)
{
    pthread_mutex_lock(&sub->mu);
    if (sub->dead || sub->closing) {
        pthread_mutex_unlock(&sub->mu);
        return true;
    }
    bool exempt = first && !sub->exempt;
    uint32_t counted = sub->q_len - (sub->exempt ? 1 : 0);
    if (sub->q_len >= h->cfg.max_events ||
        (!exempt && counted && sub->q_bytes + ev->len > h->cfg.max_bytes)) {
        overflow(h, sub);
        return false;
    }
    if (sub->q_len == sub->q_cap) {
        uint32_t cap = sub->q_cap ? sub->q_cap * 2 : 4;
        hub_event **q = cd_xcalloc(cap, sizeof *q);
        for (uint32_t i = 0; i < sub->q_len; i++)
            q[i] = sub->q[(sub->q_head + i) % sub->q_cap];
        free(sub->q);
        sub->q = q;
        sub->q_cap = cap;
        sub->q_head = 0;
    }
    sub->q[(sub->q_head + sub->q_len) % sub->q_cap] = hub_event_ref(ev);
    sub->q_len++;
    sub->pushed++;
    if (exempt)
        sub->exempt = sub->pushed;
    else
        sub->q_bytes += ev->len;
    if (ev->closes)
        sub->closing = true;
    hub_sub_wake(sub);
    pthread_mutex_unlock(&sub->mu);
    if (sub->linked) {
        sub->last_ms = hub_now(h);
        ka_unlink(h, sub);
        ka_append(h, sub);
    }
    atomic_fetch_add_explicit(&h->events, 1, memory_order_relaxed);
    return true;
}

bool hub_push(hub *h, hub_sub *sub, hub_event *ev)
{
    return push(h, sub, ev, false);
}

bool hub_push_snapshot(hub *h, hub_sub *sub, hub_event *ev)
{
    return push(h, sub, ev, true);
}

/* Ends a stream once its queue is out (after a delete, a lost view). */
void hub_close_sub(hub *h, hub_sub *sub)
{
    pthread_mutex_lock(&sub->mu);
    sub->closing = true;
    hub_sub_wake(sub);
    pthread_mutex_unlock(&sub->mu);
    hub_unlink(h, sub);
    sub->item = NULL;
}

/* Whether user reads the item's drafts: its owner or a member. */
static bool reads_drafts(const hub_event *ev, const char *user)
{
    if (!user)
        return false;
    if (ev->owner && !strcmp(ev->owner, user))
        return true;
    for (size_t i = 0; i < ev->n_members; i++)
        if (!strcmp(ev->members[i], user))
            return true;
    return false;
}

static bool audience_ok(const hub_event *ev, const hub_sub *sub)
{
    bool drafts = reads_drafts(ev, sub->user);
    switch (ev->audience) {
    case HUB_AUD_VISIBLE:
        return ev->is_public || drafts;
    case HUB_AUD_OWNER:
        return drafts;
    case HUB_AUD_OTHERS:
        return !drafts;
    case HUB_AUD_READERS:
        return ev->is_public && !drafts;
    default:
        return true;
    }
}

static void publish_global(hub *h, hub_event *ev)
{
    for (hub_sub *sub = h->global, *next; sub; sub = next) {
        next = sub->next;
        if (audience_ok(ev, sub))
            hub_push(h, sub, ev);
    }
    hub_event_unref(ev);
}

/* An item-level event of the global stream as each one sees it: who reads
 * drafts gets the item as it is; once a version is published, readers get
 * the item at that version (readers_too), or nothing (a new draft). */
static void publish_views(hub *h, const char *type, const catalog_item *it, bool readers_too)
{
    if (it->published_version <= 0 || it->published_version == it->version) {
        publish_global(h, hub_event_global(type, it, HUB_AUD_VISIBLE));
        return;
    }
    publish_global(h, hub_event_global(type, it, HUB_AUD_OWNER));
    if (!readers_too)
        return;
    catalog_item seen = *it;
    seen.version = it->published_version;
    publish_global(h, hub_event_global(type, &seen, HUB_AUD_READERS));
}

/* ---- applying changes (the hub thread) ------------------------------- */

/* The update of one documents list (NULL: every document in full). */
typedef struct part_update {
    hub_docs *docs;
    hub_event *ev;
} part_update;

static hub_event *build_update(hub *h, const catalog_item *it, int64_t from, int64_t v,
                               const hub_docs *docs)
{
    hub_event *upd = NULL;
    cd_err err = {0};
    if (hub_event_update(h, it->kind, it->name, from, v, docs, &upd, &err) != 0)
        cd_log("error", "sse", "msg=\"update not built\" item=%s/%s version=%lld err=\"%s\"",
               it->kind, it->name, (long long)v, err.msg);
    return upd;
}

/* The update for every distinct documents list among the item's
 * subscribers that want some documents only: each built once, shared by
 * the subscribers of that list.  Returns how many (*out to free with
 * free_parts). */
static size_t part_updates(hub *h, const catalog_item *it, int64_t from, int64_t v,
                           part_update **out)
{
    part_update *parts = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&h->mu);
    hub_item *st = hub_state_find(h, it->kind, it->name);
    for (hub_sub *sub = st ? st->subs : NULL; sub; sub = sub->next) {
        if (!sub->docs || sub->version != from || !hub_follows_latest(sub, it))
            continue;
        size_t i = 0;
        while (i < n && !hub_docs_same(parts[i].docs, sub->docs))
            i++;
        if (i < n)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            part_update *p = cd_xcalloc(cap, sizeof *p);
            if (n)
                memcpy(p, parts, n * sizeof *p);
            free(parts);
            parts = p;
        }
        parts[n++].docs = hub_docs_ref(sub->docs);
    }
    pthread_mutex_unlock(&h->mu);
    for (size_t i = 0; i < n; i++)
        parts[i].ev = build_update(h, it, from, v, parts[i].docs);
    *out = parts;
    return n;
}

static void free_parts(part_update *parts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hub_docs_unref(parts[i].docs);
        hub_event_unref(parts[i].ev);
    }
    free(parts);
}

static hub_event *update_for(const hub_sub *sub, hub_event *upd, const part_update *parts, size_t n)
{
    if (!sub->docs)
        return upd;
    for (size_t i = 0; i < n; i++)
        if (hub_docs_same(parts[i].docs, sub->docs))
            return parts[i].ev;
    return NULL;
}

/* A new version: the update to the item's subscribers (a snapshot to
 * those further behind), the item to the global stream.  The first version
 * of an item created again under a deleted one's name follows the empty
 * item (version 0), not the deleted one's last version.  A subscriber that
 * wants some documents only gets the update of its list; when it is
 * further behind, its stream ends and it reconnects with Last-Event-ID. */
static void apply_version(hub *h, const catalog_item *it, int64_t v)
{
    int64_t from = v - 1 == it->deleted_version ? 0 : v - 1;
    hub_event *upd = build_update(h, it, from, v, NULL);
    part_update *parts = NULL;
    size_t nparts = part_updates(h, it, from, v, &parts);
    hub_event *snap = hub_catch_up(h, it, v, from, upd != NULL);
    pthread_mutex_lock(&h->mu);
    hub_item *st = hub_state_get(h, it);
    if (upd) {
        hub_event_unref(st->last_update);
        st->last_update = hub_event_ref(upd);
    }
    if (st->snapshot && st->snapshot->version < v) {
        hub_event_unref(st->snapshot);
        st->snapshot = NULL;
    }
    if (snap && !st->snapshot)
        st->snapshot = hub_event_ref(snap); /* shared with the next subscribers */
    for (hub_sub *sub = st->subs, *next; sub; sub = next) {
        next = sub->next;
        if (sub->version >= v)
            continue; /* its first event already brought it there */
        if (!hub_follows_latest(sub, it))
            continue; /* a reader: it follows the published version (a link: its own) */
        hub_event *u = update_for(sub, upd, parts, nparts);
        if (u && sub->version == from && hub_push(h, sub, u))
            sub->version = v;
        else if (snap && !sub->docs && snap->version > sub->version &&
                 hub_push_snapshot(h, sub, snap))
            sub->version = snap->version;
        else if (sub->version != from || !u)
            hub_close_sub(h, sub); /* cannot be brought up to date: it reconnects */
    }
    publish_views(h, "version", it, false);
    h->seq++;
    pthread_mutex_unlock(&h->mu);
    hub_event_unref(upd);
    hub_event_unref(snap);
    free_parts(parts, nparts);
}

bool hub_may_read(const hub_sub *sub, const catalog_item *it)
{
    if (sub->link[0]) {
        const catalog_link *l = catalog_link_of(it, sub->link);
        return l && l->expires_at > cd_now_ms();
    }
    return sub->drafts ? catalog_sees_drafts(sub->user, it) : catalog_can_see(sub->user, it);
}

bool hub_follows_latest(const hub_sub *sub, const catalog_item *it)
{
    return !sub->pinned && (sub->drafts || it->published_version <= 0);
}

/* The most distinct (version, documents list) pairs readers of one item
 * are brought from to a newly published version; a reader at yet another
 * is sent to reconnect. */
#define PUBLISH_FROM_MAX 8

/* The update that brings the readers at version `from` that want docs in
 * full to the published version. */
typedef struct reader_update {
    int64_t from;
    hub_docs *docs;
    hub_event *ev;
} reader_update;

/* The updates that bring the item's readers from the versions they are at
 * to the newly published one, each with its subscribers' documents list:
 * built outside the hub lock. */
static size_t published_updates(hub *h, const catalog_item *it, reader_update ru[PUBLISH_FROM_MAX])
{
    size_t n = 0;
    int64_t to = it->published_version;
    pthread_mutex_lock(&h->mu);
    hub_item *st = hub_state_find(h, it->kind, it->name);
    bool changed = st && to > 0 && st->published != to;
    for (hub_sub *sub = changed ? st->subs : NULL; sub && n < PUBLISH_FROM_MAX; sub = sub->next) {
        bool seen = sub->drafts || sub->pinned || sub->version == to;
        for (size_t i = 0; i < n && !seen; i++)
            seen = ru[i].from == sub->version && hub_docs_same(ru[i].docs, sub->docs);
        if (!seen) {
            ru[n].from = sub->version;
            ru[n++].docs = hub_docs_ref(sub->docs);
        }
    }
    pthread_mutex_unlock(&h->mu);
    for (size_t i = 0; i < n; i++) {
        catalog_item seen = *it;
        seen.version = to;
        ru[i].ev = build_update(h, &seen, ru[i].from, to, ru[i].docs);
    }
    return n;
}

static void free_reader_updates(reader_update *ru, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hub_docs_unref(ru[i].docs);
        hub_event_unref(ru[i].ev);
    }
}

/* A new published version (hub->mu held): `event: published` to every
 * subscriber of the item, and to each reader first the update to it. */
static void apply_published(hub *h, hub_item *st, const catalog_item *it, const reader_update *ru,
                            size_t n)
{
    hub_event *drafts = hub_event_published(it, true), *readers = hub_event_published(it, false);
    for (hub_sub *sub = st->subs, *next; sub; sub = next) {
        next = sub->next;
        if (sub->pinned)
            continue; /* a link to one version: nothing changes for it */
        if (sub->drafts) {
            hub_push(h, sub, drafts);
            continue;
        }
        hub_event *u = NULL;
        for (size_t i = 0; i < n && !u; i++)
            if (ru[i].from == sub->version && hub_docs_same(ru[i].docs, sub->docs))
                u = ru[i].ev;
        if (sub->version != it->published_version && !u) {
            hub_close_sub(h, sub); /* cannot be brought there: it reconnects */
            continue;
        }
        if (u && !hub_push(h, sub, u))
            continue;
        sub->version = it->published_version;
        hub_push(h, sub, readers);
    }
    hub_event_unref(drafts);
    hub_event_unref(readers);
    st->published = it->published_version;
    publish_views(h, "published", it, true);
}

/* Title, visibility, the published version or the members changed: tell
 * the global stream; whoever lost sight of the item sees it deleted,
 * whoever gained it sees it created (and nothing else: an `updated` of an
 * item it never had would come first).  A stream whose user may no longer
 * read what it follows (a private item, a member's role taken away) ends. */
static void apply_updated(hub *h, const catalog_item *it)
{
    reader_update ru[PUBLISH_FROM_MAX];
    size_t n = published_updates(h, it, ru);
    pthread_mutex_lock(&h->mu);
    hub_item *old = hub_state_find(h, it->kind, it->name);
    bool was_public = old ? old->is_public : it->visibility == CAT_PUBLIC;
    bool published = it->published_version > 0 && (!old || old->published != it->published_version);
    hub_item *st = hub_state_get(h, it);
    bool is_public = st->is_public;
    bool gained = !was_public && is_public;
    if (gained)
        publish_global(h, hub_event_global("updated", it, HUB_AUD_OWNER));
    else
        publish_views(h, "updated", it, true);
    if (was_public && !is_public) {
        publish_global(h, hub_event_global("deleted", it, HUB_AUD_OTHERS));
    } else if (gained) {
        catalog_item seen = *it;
        seen.version = catalog_version_for(NULL, it);
        publish_global(h, hub_event_global("created", &seen, HUB_AUD_OTHERS));
    }
    for (hub_sub *sub = st->subs, *next; sub; sub = next) {
        next = sub->next;
        if (!hub_may_read(sub, it))
            hub_close_sub(h, sub);
    }
    if (published)
        apply_published(h, st, it, ru, n);
    h->seq++;
    pthread_mutex_unlock(&h->mu);
    free_reader_updates(ru, n);
}

static void apply_deleted(hub *h, const char *kind, const char *name)
{
    pthread_mutex_lock(&h->mu);
    hub_item *st = hub_state_find(h, kind, name);
    if (st) {
        hub_event *ev = hub_event_deleted(kind, name);
        for (hub_sub *sub = st->subs, *next; sub; sub = next) {
            next = sub->next;
            hub_push(h, sub, ev);
            hub_unlink(h, sub);
            sub->item = NULL;
        }
        hub_event_unref(ev);
        catalog_item it = {.owner = st->owner,
                           .visibility = st->is_public ? CAT_PUBLIC : CAT_PRIVATE};
        memcpy(it.kind, st->kind, sizeof it.kind);
        memcpy(it.name, st->name, sizeof it.name);
        publish_global(h, hub_event_global("deleted", &it, HUB_AUD_VISIBLE));
        hub_state_remove(h, st);
    }
    h->seq++;
    pthread_mutex_unlock(&h->mu);
}

/* A comment added or resolved: `event: comment` to the item's streams
 * of its owner and members, who may read comments; readers of a public
 * item and share links do not get it.  A comment that cannot be read is
 * logged and skipped: the page's next list shows it. */
static void apply_comment(hub *h, const char *kind, const char *name, int64_t id)
{
    catalog_comment cm;
    cd_err err = {0};
    int rc = catalog_comment_get(h->cfg.cat, kind, name, id, &cm, &err);
    if (rc != CAT_OK) {
        if (rc != CAT_NOT_FOUND)
            cd_log("warn", "sse",
                   "msg=\"comment not sent: it cannot be read\" item=%s/%s id=%lld "
                   "err=\"%s\"",
                   kind, name, (long long)id, err.msg);
        return;
    }
    hub_event *ev = hub_event_comment(kind, name, &cm);
    catalog_comment_clear(&cm);
    pthread_mutex_lock(&h->mu);
    hub_item *st = hub_state_find(h, kind, name);
    for (hub_sub *sub = st ? st->subs : NULL; sub; sub = sub->next)
        if (sub->drafts && !sub->link[0])
            hub_push(h, sub, ev);
    h->seq++;
    pthread_mutex_unlock(&h->mu);
    hub_event_unref(ev);
}

/* Applies one change; false when the item could not be read (the change
 * is to be retried). */
bool hub_apply(hub *h, hub_change *c)
{
    if (c->ev == CAT_EV_DELETED) {
        apply_deleted(h, c->kind, c->name);
        return true;
    }
    if (c->ev == CAT_EV_COMMENT) {
        apply_comment(h, c->kind, c->name, c->version);
        return true;
    }
    catalog_item it = {0};
    cd_err err = {0};
    int rc = catalog_item_get(h->cfg.cat, c->kind, c->name, &it, &err);
    if (rc == CAT_NOT_FOUND)
        return true; /* gone already: its delete follows */
    if (rc != CAT_OK && rc != CAT_UNAVAILABLE && c->attempts + 1 >= RETRY_ERROR_ATTEMPTS) {
        cd_log("error", "sse",
               "msg=\"change not applied: the item cannot be read; its streams are closed to "
               "catch up\" item=%s/%s version=%lld attempts=%u err=\"%s\"",
               c->kind, c->name, (long long)c->version, c->attempts + 1, err.msg);
        atomic_fetch_add_explicit(&h->change_retries, 1, memory_order_relaxed);
        pthread_mutex_lock(&h->mu);
        hub_item *st = hub_state_find(h, c->kind, c->name);
        for (hub_sub *sub = st ? st->subs : NULL, *next; sub; sub = next) {
            next = sub->next;
            hub_close_sub(h, sub);
        }
        h->seq++;
        pthread_mutex_unlock(&h->mu);
        return true;
    }
    if (rc != CAT_OK) {
        c->attempts++;
        c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : RETRY_FIRST_MS;
        if (c->backoff_ms > RETRY_MAX_MS)
            c->backoff_ms = RETRY_MAX_MS;
        c->due_ms = hub_now(h) + c->backoff_ms;
        atomic_fetch_add_explicit(&h->change_retries, 1, memory_order_relaxed);
        cd_log("warn", "sse",
               "msg=\"change not applied yet: the item cannot be read; retrying\" item=%s/%s "
               "version=%lld attempt=%u retry_ms=%lld err=\"%s\"",
               c->kind, c->name, (long long)c->version, c->attempts, (long long)c->backoff_ms,
               err.msg);
        return false;
    }
    if (c->attempts)
        cd_log("info", "sse", "msg=\"change applied after retries\" item=%s/%s attempts=%u",
               c->kind, c->name, c->attempts);
    if (c->ev == CAT_EV_VERSION) {
        apply_version(h, &it, c->version);
    } else if (c->ev == CAT_EV_UPDATED) {
        apply_updated(h, &it);
    } else {
        pthread_mutex_lock(&h->mu);
        hub_state_get(h, &it);
        publish_global(h, hub_event_global("created", &it, HUB_AUD_VISIBLE));
        h->seq++;
        pthread_mutex_unlock(&h->mu);
    }
    catalog_item_clear(&it);
    return true;
}

void hub_on_change(void *arg, catalog_event ev, const char *kind, const char *name, int64_t version)
{
    hub *h = arg;
    hub_change *c = cd_xcalloc(1, sizeof *c);
    c->ev = ev;
    snprintf(c->kind, sizeof c->kind, "%s", kind);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->version = version;
    pthread_mutex_lock(&h->mu);
    if (h->q_tail)
        h->q_tail->next = c;
    else
        h->q_head = c;
    h->q_tail = c;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

void hub_ka_requeue(hub *h, hub_sub *sub, int64_t now)
{
    sub->last_ms = now;
    ka_unlink(h, sub);
    ka_append(h, sub);
}
