/* SPDX-License-Identifier: MIT */
/*
 * Who sees what of an item: the global stream's audiences and its views of
 * an item (who reads drafts sees the latest version, readers the published
 * one), whether a stream may still read what it follows, and the changes
 * other than a new version — an item created, updated (title, visibility,
 * members, the published version) or deleted — which change who sees what.
 *
 * Whoever loses sight of an item on the global stream sees it deleted,
 * whoever gains it sees it created; an item stream whose user may no
 * longer read what it follows ends (its client reconnects and is told
 * 404).  A newly published version reaches each reader as the update from
 * the version it is at, built once per (version, documents list).
 */
#include "hub_int.h"

#include <string.h>

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
void hub_publish_views(hub *h, const char *type, const catalog_item *it, bool readers_too)
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
        ru[i].ev = hub_build_update(h, &seen, ru[i].from, to, ru[i].docs);
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
    hub_publish_views(h, "published", it, true);
}

/* Title, visibility, the published version or the members changed: tell
 * the global stream; whoever lost sight of the item sees it deleted,
 * whoever gained it sees it created (and nothing else: an `updated` of an
 * item it never had would come first).  A stream whose user may no longer
 * read what it follows (a private item, a member's role taken away) ends. */
void hub_apply_updated(hub *h, const catalog_item *it)
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
        hub_publish_views(h, "updated", it, true);
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

void hub_apply_deleted(hub *h, const char *kind, const char *name)
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
void hub_apply_comment(hub *h, const char *kind, const char *name, int64_t id)
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

void hub_apply_created(hub *h, const catalog_item *it)
{
    pthread_mutex_lock(&h->mu);
    hub_state_get(h, it);
    publish_global(h, hub_event_global("created", it, HUB_AUD_VISIBLE));
    h->seq++;
    pthread_mutex_unlock(&h->mu);
}
