/* SPDX-License-Identifier: MIT */
/*
 * Which change of each item this process has announced (called
 * c->on_change for), so that every version is announced once and in
 * order, whether this process made it or another replica did.
 *
 * The MongoDB backend announces its own changes (its ops table says
 * `announces`, so catalog.c's door announces none of them): without an
 * active watcher, local writes announce themselves at once, as the door
 * does for a backend that is no source of changes.  With one, the change
 * stream is the authority: it
 * delivers every change of `content` in order, and the record (per item:
 * present, incarnation, version, meta) drops what has been announced
 * already.  Two shortcuts keep a local edit's latency at zero without
 * breaking the order:
 *
 *  - a local commit of version V announces V at once only if the record
 *    already holds V-1 of the same incarnation; its copy from the stream is
 *    then a duplicate and dropped.  Out of step (the stream is behind, or
 *    has not shown the item yet), the stream announces it instead, after
 *    the versions before it;
 *  - the same for title/visibility changes, with `meta` as the counter.
 *
 * Creations and deletions are announced by the stream only, so that a
 * delete and re-create of a name is told in its order.  A resync (the
 * stream lost its place) re-reads the catalog and announces each
 * difference from the record.  Everything here runs under w->mu, which is
 * held while on_change runs: two announcements never race or reorder.
 */
#include "catalog_mongo_int.h"

#include <stdlib.h>
#include <string.h>

struct mg_entry {
    cd_hnode node; /* in w->table, by key */
    char key[MG_KEY_MAX];
    bool has_inc;
    bson_oid_t inc;
    int64_t version, meta;
    /* The commit time of the latest version, for a change that leaves it
     * out: a field set to the value it had is not in updatedFields, so two
     * commits in one millisecond bring the second one's time only here. */
    int64_t committed_at;
    uint64_t mark;
};

void mg_watch_init(mg_watch *w)
{
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->stop_mu, NULL);
    cd_cond_init_mono(&w->stop_cv);
}

void mg_watch_destroy(mg_watch *w)
{
    for (cd_hnode *n; (n = cd_htab_any(&w->table));) {
        cd_htab_del(&w->table, n);
        free(CD_CONTAINER_OF(n, mg_entry, node));
    }
    cd_htab_free(&w->table);
    if (w->token)
        bson_destroy(w->token);
    w->token = NULL;
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->stop_mu);
    pthread_cond_destroy(&w->stop_cv);
}

static mg_entry *find(mg_watch *w, const char *key)
{
    for (cd_hnode *n = cd_htab_first(&w->table, cd_hash_str(key)); n; n = cd_htab_next(n)) {
        mg_entry *e = CD_CONTAINER_OF(n, mg_entry, node);
        if (!strcmp(e->key, key))
            return e;
    }
    return NULL;
}

/* A fresh entry (version 0, no incarnation) for a key known to be absent. */
static mg_entry *add(mg_watch *w, const char *key)
{
    mg_entry *e = cd_xcalloc(1, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", key);
    cd_htab_add(&w->table, &e->node, cd_hash_str(key));
    return e;
}

static void drop(mg_watch *w, mg_entry *gone)
{
    cd_htab_del(&w->table, &gone->node);
    free(gone);
}

static void emit(mg_catalog *c, catalog_event ev, const char *key, int64_t version)
{
    char kind[CD_KIND_MAX], name[CD_NAME_MAX];
    if (mg_split_key(key, kind, name))
        catalog_emit(&c->base, ev, kind, name, version);
}

/* Records the lag from a version's commit to its announcement. */
static void note_lag(mg_watch *w, int64_t committed_at)
{
    if (committed_at <= 0)
        return;
    int64_t lag = cd_now_ms() - committed_at;
    if (lag < 0)
        lag = 0; /* the other replica's clock is ahead */
    catalog_watch_stats *s = &w->stats;
    s->lag_count++;
    s->lag_ms_sum += (uint64_t)lag;
    if (lag > s->lag_ms_max)
        s->lag_ms_max = lag;
    for (int i = 0; i < CATALOG_LAG_BUCKETS; i++)
        if (i == CATALOG_LAG_BUCKETS - 1 || lag <= catalog_lag_bounds_ms[i])
            s->lag_buckets[i]++;
}

/* Entry e moves to version v of change ch: announced, and timed by the
 * change's commit time or, where the change leaves it out, the one e knows. */
static void announce_version(mg_catalog *c, mg_entry *e, const mg_change *ch)
{
    mg_watch *w = &c->watch;
    e->version = ch->version;
    if (ch->committed_at > 0)
        e->committed_at = ch->committed_at;
    w->stats.announced++;
    note_lag(w, e->committed_at);
    emit(c, CAT_EV_VERSION, e->key, e->version);
}

/* Local writes ------------------------------------------------------------ */

static bool is_active(mg_watch *w)
{
    pthread_mutex_lock(&w->mu);
    bool active = w->active;
    pthread_mutex_unlock(&w->mu);
    return active;
}

void mg_local_created(mg_catalog *c, const char *kind, const char *name)
{
    if (!is_active(&c->watch))
        catalog_emit(&c->base, CAT_EV_CREATED, kind, name, 0);
}

void mg_local_deleted(mg_catalog *c, const char *kind, const char *name)
{
    if (!is_active(&c->watch))
        catalog_emit(&c->base, CAT_EV_DELETED, kind, name, 0);
}

/* The record's entry for kind/name if it holds incarnation inc. */
static mg_entry *same_item(mg_watch *w, const char *kind, const char *name, const bson_oid_t *inc)
{
    char key[MG_KEY_MAX];
    mg_item_key(key, kind, name);
    mg_entry *e = find(w, key);
    return e && e->has_inc && bson_oid_equal(&e->inc, inc) ? e : NULL;
}

void mg_local_version(mg_catalog *c, const char *kind, const char *name, const bson_oid_t *inc,
                      int64_t version, int64_t committed_at)
{
    mg_watch *w = &c->watch;
    pthread_mutex_lock(&w->mu);
    if (!w->active) {
        pthread_mutex_unlock(&w->mu);
        catalog_emit(&c->base, CAT_EV_VERSION, kind, name, version);
        return;
    }
    mg_entry *e = same_item(w, kind, name, inc);
    if (e && e->version == version - 1) {
        e->version = version;
        e->committed_at = committed_at;
        w->stats.announced_local++;
        note_lag(w, committed_at);
        catalog_emit(&c->base, CAT_EV_VERSION, kind, name, version);
    }
    pthread_mutex_unlock(&w->mu);
}

void mg_local_meta(mg_catalog *c, const char *kind, const char *name, const bson_oid_t *inc,
                   int64_t meta, int64_t version)
{
    mg_watch *w = &c->watch;
    pthread_mutex_lock(&w->mu);
    if (!w->active) {
        pthread_mutex_unlock(&w->mu);
        catalog_emit(&c->base, CAT_EV_UPDATED, kind, name, version);
        return;
    }
    mg_entry *e = same_item(w, kind, name, inc);
    if (e && e->meta == meta - 1) {
        e->meta = meta;
        w->stats.announced_local++;
        catalog_emit(&c->base, CAT_EV_UPDATED, kind, name, version);
    }
    pthread_mutex_unlock(&w->mu);
}

/* The stream and the scans ----------------------------------------------- */

/* Brings entry e (or a new one) to the state of ch, an item read whole
 * (an insert, a replace or a scanned document); w->mu held.  Within one
 * incarnation versions and meta only grow, so an older copy (the stream
 * replaying what a scan already saw) changes nothing. */
static mg_entry *set_whole(mg_catalog *c, mg_entry *e, const mg_change *ch, bool announce)
{
    mg_watch *w = &c->watch;
    bool same = e && ch->has_inc && e->has_inc && bson_oid_equal(&e->inc, &ch->inc);
    if (!same) {
        if (e && announce) {
            w->stats.announced++;
            emit(c, CAT_EV_DELETED, e->key, 0); /* an incarnation we did not see go */
        }
        if (!e)
            e = add(w, ch->key);
        e->has_inc = ch->has_inc;
        e->inc = ch->inc;
        e->version = 0;
        e->committed_at = 0;
        e->meta = ch->has_meta ? ch->meta : 0;
        if (announce) {
            w->stats.announced++;
            emit(c, CAT_EV_CREATED, e->key, 0);
        }
    }
    if (ch->has_version && ch->version > e->version) {
        if (announce) {
            announce_version(c, e, ch);
        } else {
            e->version = ch->version;
            e->committed_at = ch->committed_at;
        }
    }
    if (ch->has_meta && ch->meta > e->meta) {
        e->meta = ch->meta;
        if (announce) {
            w->stats.announced++;
            emit(c, CAT_EV_UPDATED, e->key, e->version);
        }
    }
    return e;
}

void mg_apply_change(mg_catalog *c, const mg_change *ch)
{
    mg_watch *w = &c->watch;
    pthread_mutex_lock(&w->mu);
    w->stats.events++;
    mg_entry *e = find(w, ch->key);
    if (ch->op == MG_CH_INSERT || ch->op == MG_CH_REPLACE) {
        set_whole(c, e, ch, true);
    } else if (ch->op == MG_CH_DELETE) {
        if (e) {
            w->stats.announced++;
            emit(c, CAT_EV_DELETED, e->key, 0);
            drop(w, e);
        }
    } else {
        if (!e) {
            /* An update of an item the record never saw created (it was
             * created while the stream was being re-opened): its state
             * from the looked-up document, then this change. */
            mg_change whole = {.op = MG_CH_INSERT, .has_inc = ch->has_inc, .inc = ch->inc};
            snprintf(whole.key, sizeof whole.key, "%s", ch->key);
            e = set_whole(c, NULL, &whole, true);
        }
        if (ch->has_version && ch->version > e->version)
            announce_version(c, e, ch);
        if (ch->has_meta && ch->meta > e->meta) {
            e->meta = ch->meta;
            w->stats.announced++;
            emit(c, CAT_EV_UPDATED, e->key, e->version);
        }
    }
    pthread_mutex_unlock(&w->mu);
}

void mg_apply_scan(mg_catalog *c, const mg_change *items, size_t n, bool announce)
{
    mg_watch *w = &c->watch;
    pthread_mutex_lock(&w->mu);
    uint64_t mark = ++w->sweep;
    for (size_t i = 0; i < n; i++)
        set_whole(c, find(w, items[i].key), &items[i], announce)->mark = mark;
    /* Whatever the scan did not meet was deleted meanwhile. */
    size_t pos = 0;
    for (cd_hnode *h = cd_htab_walk(&w->table, &pos, NULL), *next; h; h = next) {
        next = cd_htab_walk(&w->table, &pos, h);
        mg_entry *e = CD_CONTAINER_OF(h, mg_entry, node);
        if (e->mark == mark)
            continue;
        if (announce) {
            w->stats.announced++;
            emit(c, CAT_EV_DELETED, e->key, 0);
        }
        drop(w, e);
    }
    pthread_mutex_unlock(&w->mu);
}
