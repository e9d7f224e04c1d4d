/* SPDX-License-Identifier: MIT */
/*
 * The event hub: who is subscribed to what, and one thread that turns
 * catalog changes into events and sends the keep-alives.
 *
 * The catalog's on_change callback only queues the change and wakes the
 * hub thread, so a change from this process and one from another replica
 * (the MongoDB catalog's change stream) take the same path, in order.  The hub
 * thread builds each event once (from the catalog and the render cache),
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
 * Keep-alives: subscribers sit in a list ordered by the time of their last
 * event; the thread sleeps until the oldest is 15 s idle (a condition
 * variable with a deadline: no polling), then sends `: keep-alive` to every
 * subscriber that is due, in one pass.
 */
#include "hub_int.h"

#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_EVENTS_DEFAULT 256
#define QUEUE_BYTES_DEFAULT  (8u << 20)
#define RETRY_FIRST_MS       50
#define RETRY_MAX_MS         5000
/* An error that is not the catalog being unavailable (a document it cannot
 * read) is retried this many times, then the item's subscribers are sent
 * away to reconnect (and catch up from the catalog themselves), so that one
 * such item cannot hold up every other change for ever. */
#define RETRY_ERROR_ATTEMPTS 6

int64_t srv_hub_mono_ms(void)
{
    return srv_mono_ns() / 1000000;
}

static size_t bucket(const srv_hub *h, const char *kind, const char *name)
{
    uint64_t x = 1469598103934665603ull;
    for (const char *p = kind; *p; p++)
        x = (x ^ (unsigned char)*p) * 1099511628211ull;
    for (const char *p = name; *p; p++)
        x = (x ^ (unsigned char)*p) * 1099511628211ull;
    return (size_t)x & (h->nbuckets - 1);
}

srv_item_state *srv_hub_state_find(srv_hub *h, const char *kind, const char *name)
{
    for (srv_item_state *st = h->table[bucket(h, kind, name)]; st; st = st->hnext)
        if (!strcmp(st->kind, kind) && !strcmp(st->name, name))
            return st;
    return NULL;
}

/* The state of an item, created from it when missing; refreshes owner and
 * visibility from it when it is given. */
srv_item_state *srv_hub_state_get(srv_hub *h, const catalog_item *it)
{
    srv_item_state *st = srv_hub_state_find(h, it->kind, it->name);
    if (!st) {
        st = cd_xcalloc(1, sizeof *st);
        memcpy(st->kind, it->kind, sizeof st->kind);
        memcpy(st->name, it->name, sizeof st->name);
        size_t b = bucket(h, it->kind, it->name);
        st->hnext = h->table[b];
        h->table[b] = st;
    }
    free(st->owner);
    st->owner = cd_xstrdup(it->owner ? it->owner : "");
    st->is_public = it->visibility == CAT_PUBLIC;
    if (it->version > st->version)
        st->version = it->version;
    return st;
}

static void state_remove(srv_hub *h, srv_item_state *st)
{
    srv_item_state **pp = &h->table[bucket(h, st->kind, st->name)];
    while (*pp != st)
        pp = &(*pp)->hnext;
    *pp = st->hnext;
    srv_event_unref(st->snapshot);
    srv_event_unref(st->last_update);
    free(st->owner);
    free(st);
}

/* ---- subscriber lists (hub->mu held) -------------------------------- */

static void ka_unlink(srv_hub *h, srv_sub *sub)
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

static void ka_append(srv_hub *h, srv_sub *sub)
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

static srv_sub **list_of(srv_hub *h, srv_sub *sub)
{
    return sub->global ? &h->global : &sub->item->subs;
}

void srv_hub_link(srv_hub *h, srv_sub *sub)
{
    srv_sub **head = list_of(h, sub);
    sub->prev = NULL;
    sub->next = *head;
    if (*head)
        (*head)->prev = sub;
    *head = sub;
    sub->linked = true;
    sub->refs++;
    sub->last_ms = srv_hub_mono_ms();
    ka_append(h, sub);
    if (sub->global)
        h->n_global_subs++;
    else
        h->n_item_subs++;
}

static void unlink_sub(srv_hub *h, srv_sub *sub)
{
    if (!sub->linked)
        return;
    if (sub->item || sub->global) {
        srv_sub **head = list_of(h, sub);
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
}

void srv_sub_free(srv_sub *sub)
{
    while (sub->q_len) {
        srv_event_unref(sub->q[sub->q_head]);
        sub->q_head = (sub->q_head + 1) % sub->q_cap;
        sub->q_len--;
    }
    free(sub->q);
    free(sub->user);
    pthread_mutex_destroy(&sub->mu);
    free(sub);
}

void srv_hub_release(srv_hub *h, srv_sub *sub, bool unlink)
{
    pthread_mutex_lock(&h->mu);
    if (unlink) {
        unlink_sub(h, sub);
        pthread_mutex_lock(&sub->mu);
        sub->conn = NULL;
        pthread_mutex_unlock(&sub->mu);
    } else {
        sub->refs--;
    }
    bool last = sub->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (last)
        srv_sub_free(sub);
}

/* ---- queueing (hub->mu held) ---------------------------------------- */

static void wake(srv_sub *sub)
{
    if (sub->suspended && sub->conn) {
        sub->suspended = false;
        MHD_resume_connection(sub->conn);
    }
}

/* The queue is full: drop it and end the stream, so that a slow reader
 * costs the others nothing; it reconnects with Last-Event-ID.  A reader
 * that stopped reading leaves libmicrohttpd waiting for the socket to drain,
 * so the socket is shut down as well: libmicrohttpd then sees the error and
 * closes the connection.  (sub->conn is set, so libmicrohttpd has not
 * released the connection and the descriptor is still this socket.) */
static void overflow(srv_hub *h, srv_sub *sub)
{
    while (sub->q_len) {
        srv_event_unref(sub->q[sub->q_head]);
        sub->q_head = (sub->q_head + 1) % sub->q_cap;
        sub->q_len--;
    }
    sub->q_bytes = sub->off = 0;
    sub->dead = true;
    wake(sub);
    if (sub->conn && sub->fd >= 0)
        shutdown(sub->fd, SHUT_RDWR);
    pthread_mutex_unlock(&sub->mu);
    unlink_sub(h, sub);
    srv_metrics_sse_overflow();
    srv_log("warn", "sse", "msg=\"slow subscriber disconnected\" user=%s",
            sub->user ? sub->user : "-");
}

void srv_hub_hangup(srv_sub *sub)
{
    pthread_mutex_lock(&sub->mu);
    if (sub->conn && !sub->hung_up) {
        sub->hung_up = true;
        sub->dead = true; /* nothing more is queued for it */
        wake(sub);
    }
    pthread_mutex_unlock(&sub->mu);
}

/* Queues ev for sub; returns false when sub was dropped instead. */
bool srv_hub_push(srv_hub *h, srv_sub *sub, srv_event *ev)
{
    pthread_mutex_lock(&sub->mu);
    if (sub->dead || sub->closing) {
        pthread_mutex_unlock(&sub->mu);
        return true;
    }
    if (sub->q_len >= h->max_events || (sub->q_len && sub->q_bytes + ev->len > h->max_bytes)) {
        overflow(h, sub);
        return false;
    }
    if (sub->q_len == sub->q_cap) {
        uint32_t cap = sub->q_cap ? sub->q_cap * 2 : 4;
        srv_event **q = cd_xcalloc(cap, sizeof *q);
        for (uint32_t i = 0; i < sub->q_len; i++)
            q[i] = sub->q[(sub->q_head + i) % sub->q_cap];
        free(sub->q);
        sub->q = q;
        sub->q_cap = cap;
        sub->q_head = 0;
    }
    sub->q[(sub->q_head + sub->q_len) % sub->q_cap] = srv_event_ref(ev);
    sub->q_len++;
    sub->q_bytes += ev->len;
    if (ev->closes)
        sub->closing = true;
    wake(sub);
    pthread_mutex_unlock(&sub->mu);
    if (sub->linked) {
        sub->last_ms = srv_hub_mono_ms();
        ka_unlink(h, sub);
        ka_append(h, sub);
    }
    srv_metrics_sse_events(1);
    return true;
}

/* Ends a stream once its queue is out (after a delete, a lost view). */
static void close_sub(srv_hub *h, srv_sub *sub)
{
    pthread_mutex_lock(&sub->mu);
    sub->closing = true;
    wake(sub);
    pthread_mutex_unlock(&sub->mu);
    unlink_sub(h, sub);
    sub->item = NULL;
}

static bool audience_ok(const srv_event *ev, const srv_sub *sub)
{
    bool owner = ev->owner && sub->user && !strcmp(ev->owner, sub->user);
    switch (ev->audience) {
    case SRV_AUD_VISIBLE:
        return ev->is_public || owner;
    case SRV_AUD_OWNER:
        return owner;
    case SRV_AUD_OTHERS:
        return !owner;
    default:
        return true;
    }
}

static void publish_global(srv_hub *h, srv_event *ev)
{
    for (srv_sub *sub = h->global, *next; sub; sub = next) {
        next = sub->next;
        if (audience_ok(ev, sub))
            srv_hub_push(h, sub, ev);
    }
    srv_event_unref(ev);
}

/* ---- applying changes (the hub thread) ------------------------------- */

/* A new version: the update to the item's subscribers (a snapshot to
 * those further behind), the item to the global stream.  The first version
 * of an item created again under a deleted one's name follows the empty
 * item (version 0), not the deleted one's last version. */
static void apply_version(srv_hub *h, const catalog_item *it, int64_t v)
{
    srv_event *upd = NULL;
    cd_err err = {0};
    int64_t from = v - 1 == it->deleted_version ? 0 : v - 1;
    if (srv_event_update(h->s, it->kind, it->name, from, v, &upd, &err) != 0)
        srv_log("error", "sse", "msg=\"update not built\" item=%s/%s version=%lld err=\"%s\"",
                it->kind, it->name, (long long)v, err.msg);
    srv_event *snap = srv_hub_catch_up(h, it, v, from, upd != NULL);
    pthread_mutex_lock(&h->mu);
    srv_item_state *st = srv_hub_state_get(h, it);
    if (upd) {
        srv_event_unref(st->last_update);
        st->last_update = srv_event_ref(upd);
    }
    if (st->snapshot && st->snapshot->version < v) {
        srv_event_unref(st->snapshot);
        st->snapshot = NULL;
    }
    if (snap && !st->snapshot)
        st->snapshot = srv_event_ref(snap); /* shared with the next subscribers */
    for (srv_sub *sub = st->subs, *next; sub; sub = next) {
        next = sub->next;
        if (sub->version >= v)
            continue; /* its first event already brought it there */
        if (upd && sub->version == from && srv_hub_push(h, sub, upd))
            sub->version = v;
        else if (snap && snap->version > sub->version && srv_hub_push(h, sub, snap))
            sub->version = snap->version;
        else if (sub->version != from || !upd)
            close_sub(h, sub); /* cannot be brought up to date: it reconnects */
    }
    publish_global(h, srv_event_global("version", it, SRV_AUD_VISIBLE));
    h->seq++;
    pthread_mutex_unlock(&h->mu);
    srv_event_unref(upd);
    srv_event_unref(snap);
}

/* Title or visibility changed: tell the global stream; whoever lost sight
 * of the item sees it deleted, whoever gained it sees it created (and
 * nothing else: an `updated` of an item it never had would come first). */
static void apply_updated(srv_hub *h, const catalog_item *it)
{
    pthread_mutex_lock(&h->mu);
    srv_item_state *old = srv_hub_state_find(h, it->kind, it->name);
    bool was_public = old ? old->is_public : it->visibility == CAT_PUBLIC;
    srv_item_state *st = srv_hub_state_get(h, it);
    bool is_public = st->is_public;
    bool gained = !was_public && is_public;
    publish_global(h, srv_event_global("updated", it, gained ? SRV_AUD_OWNER : SRV_AUD_VISIBLE));
    if (was_public && !is_public) {
        publish_global(h, srv_event_global("deleted", it, SRV_AUD_OTHERS));
        for (srv_sub *sub = st->subs, *next; sub; sub = next) {
            next = sub->next;
            if (!sub->user || strcmp(sub->user, st->owner))
                close_sub(h, sub);
        }
    } else if (!was_public && is_public) {
        publish_global(h, srv_event_global("created", it, SRV_AUD_OTHERS));
    }
    h->seq++;
    pthread_mutex_unlock(&h->mu);
}

static void apply_deleted(srv_hub *h, const char *kind, const char *name)
{
    pthread_mutex_lock(&h->mu);
    srv_item_state *st = srv_hub_state_find(h, kind, name);
    if (st) {
        srv_event *ev = srv_event_deleted(kind, name);
        for (srv_sub *sub = st->subs, *next; sub; sub = next) {
            next = sub->next;
            srv_hub_push(h, sub, ev);
            unlink_sub(h, sub);
            sub->item = NULL;
        }
        srv_event_unref(ev);
        catalog_item it = {.owner = st->owner,
                           .visibility = st->is_public ? CAT_PUBLIC : CAT_PRIVATE};
        memcpy(it.kind, st->kind, sizeof it.kind);
        memcpy(it.name, st->name, sizeof it.name);
        publish_global(h, srv_event_global("deleted", &it, SRV_AUD_VISIBLE));
        state_remove(h, st);
    }
    h->seq++;
    pthread_mutex_unlock(&h->mu);
}

/* Applies one change; false when the item could not be read (the change
 * is to be retried). */
static bool apply(srv_hub *h, srv_change *c)
{
    if (c->ev == CAT_EV_DELETED) {
        apply_deleted(h, c->kind, c->name);
        return true;
    }
    catalog_item it = {0};
    cd_err err = {0};
    int rc = SRV_CAT(h->s, item_get, c->kind, c->name, &it, &err);
    if (rc == CAT_NOT_FOUND)
        return true; /* gone already: its delete follows */
    if (rc != CAT_OK && rc != CAT_UNAVAILABLE && c->attempts + 1 >= RETRY_ERROR_ATTEMPTS) {
        srv_log("error", "sse",
                "msg=\"change not applied: the item cannot be read; its streams are closed to "
                "catch up\" item=%s/%s version=%lld attempts=%u err=\"%s\"",
                c->kind, c->name, (long long)c->version, c->attempts + 1, err.msg);
        srv_metrics_change_retry();
        pthread_mutex_lock(&h->mu);
        srv_item_state *st = srv_hub_state_find(h, c->kind, c->name);
        for (srv_sub *sub = st ? st->subs : NULL, *next; sub; sub = next) {
            next = sub->next;
            close_sub(h, sub);
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
        c->due_ms = srv_hub_mono_ms() + c->backoff_ms;
        srv_metrics_change_retry();
        srv_log("warn", "sse",
                "msg=\"change not applied yet: the item cannot be read; retrying\" item=%s/%s "
                "version=%lld attempt=%u retry_ms=%lld err=\"%s\"",
                c->kind, c->name, (long long)c->version, c->attempts, (long long)c->backoff_ms,
                err.msg);
        return false;
    }
    if (c->attempts)
        srv_log("info", "sse", "msg=\"change applied after retries\" item=%s/%s attempts=%u",
                c->kind, c->name, c->attempts);
    if (c->ev == CAT_EV_VERSION) {
        apply_version(h, &it, c->version);
    } else if (c->ev == CAT_EV_UPDATED) {
        apply_updated(h, &it);
    } else {
        pthread_mutex_lock(&h->mu);
        srv_hub_state_get(h, &it);
        publish_global(h, srv_event_global("created", &it, SRV_AUD_VISIBLE));
        h->seq++;
        pthread_mutex_unlock(&h->mu);
    }
    catalog_item_clear(&it);
    return true;
}

void srv_hub_on_change(void *arg, catalog_event ev, const char *kind, const char *name,
                       int64_t version)
{
    srv_hub *h = arg;
    srv_change *c = cd_xcalloc(1, sizeof *c);
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

#define TOKEN_CHECK_MS 5000

static bool token_listed(const catalog_token *t, size_t n, const char *sha)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].sha256, sha))
            return true;
    return false;
}

/* Ends the streams opened with a token that has been revoked since
 * (`contentd token revoke` runs in another process, or on another
 * replica).  Called on the hub's keep-alive wake-ups, at most every
 * TOKEN_CHECK_MS: one read of the token list, outside hub->mu, however
 * many streams there are.  A stream opened after the read is left for
 * the next check (its token may be newer than the list). */
static void check_tokens(srv_hub *h, int64_t now)
{
    if (now - h->tokens_checked_ms < TOKEN_CHECK_MS || !atomic_load(&h->s->tokens_exist))
        return;
    h->tokens_checked_ms = now;
    pthread_mutex_unlock(&h->mu);
    catalog_token *t = NULL;
    size_t n = 0;
    int rc = h->s->cat->ops->token_list(h->s->cat, &t, &n, NULL);
    pthread_mutex_lock(&h->mu);
    if (rc != CAT_OK)
        return; /* the catalog cannot tell: close nothing */
    for (srv_sub *sub = h->ka_head, *next; sub; sub = next) {
        next = sub->ka_next;
        if (sub->token_sha256[0] && sub->opened_ms < now &&
            !token_listed(t, n, sub->token_sha256)) {
            srv_log("info", "sse", "msg=\"stream of a revoked token closed\" user=%s", sub->user);
            close_sub(h, sub);
        }
    }
    catalog_tokens_free(t, n);
}

/* Sends `: keep-alive` to every subscriber idle for 15 s (hub->mu held). */
static void keepalives(srv_hub *h, int64_t now)
{
    srv_event *ka = srv_event_keepalive();
    while (h->ka_head && h->ka_head->last_ms + SRV_KEEPALIVE_MS <= now) {
        srv_sub *sub = h->ka_head;
        pthread_mutex_lock(&sub->mu);
        bool idle = sub->q_len == 0 && !sub->closing && !sub->dead;
        pthread_mutex_unlock(&sub->mu);
        if (idle)
            srv_hub_push(h, sub, ka); /* moves it to the end of the list */
        if (sub->linked && h->ka_head == sub) {
            sub->last_ms = now;
            ka_unlink(h, sub);
            ka_append(h, sub);
        }
    }
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static void *hub_main(void *arg)
{
    srv_hub *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        check_tokens(h, srv_hub_mono_ms()); /* may release h->mu: read the queue after it */
        int64_t now = srv_hub_mono_ms();
        srv_change *c = h->q_head;
        if (c && c->due_ms <= now) {
            h->q_head = c->next;
            if (!h->q_head)
                h->q_tail = NULL;
            pthread_mutex_unlock(&h->mu);
            bool done = apply(h, c);
            pthread_mutex_lock(&h->mu);
            if (done) {
                free(c);
            } else { /* back at the head: the changes after it wait, in order */
                c->next = h->q_head;
                h->q_head = c;
                if (!h->q_tail)
                    h->q_tail = c;
            }
            continue;
        }
        keepalives(h, now);
        /* Wake when the oldest is due (a quarter second of slack lets one
         * wake-up serve every subscriber due around the same time) or when
         * a change is to be retried. */
        int64_t wait = -1;
        if (h->ka_head)
            wait = h->ka_head->last_ms + SRV_KEEPALIVE_MS - now + 250;
        if (c && (wait < 0 || c->due_ms - now < wait))
            wait = c->due_ms - now;
        if (wait < 0) {
            pthread_cond_wait(&h->cv, &h->mu);
            continue;
        }
        struct timespec ts;
        deadline_in(&ts, wait);
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static uint32_t env_u32(const char *name, uint32_t def)
{
    const char *v = getenv(name);
    int64_t x;
    if (v && srv_parse_i64(v, &x) && x > 0 && x < (1ll << 31))
        return (uint32_t)x;
    return def;
}

srv_hub *srv_hub_new(srv *s, cd_err *err)
{
    srv_hub *h = cd_xcalloc(1, sizeof *h);
    h->s = s;
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    h->nbuckets = 1024;
    h->table = cd_xcalloc(h->nbuckets, sizeof *h->table);
    h->max_events = env_u32("CONTENTD_SSE_QUEUE_EVENTS", QUEUE_EVENTS_DEFAULT);
    int64_t bytes = QUEUE_BYTES_DEFAULT;
    const char *qb = getenv("CONTENTD_SSE_QUEUE_BYTES");
    if (qb && !srv_parse_size(qb, &bytes)) {
        cd_err_set(err, -1, "CONTENTD_SSE_QUEUE_BYTES: '%s' is not a size", qb);
        srv_hub_free(h);
        return NULL;
    }
    h->max_bytes = (size_t)bytes;
    return h;
}

/* Loads every item's owner, visibility and version, so that events about
 * items nobody subscribed to yet reach the right global subscribers. */
static int load_items(srv_hub *h, cd_err *err)
{
    catalog_item *items = NULL;
    size_t n = 0;
    int rc = SRV_CAT(h->s, item_list, NULL, &items, &n, err);
    if (rc != CAT_OK)
        return rc;
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < n; i++)
        srv_hub_state_get(h, &items[i]);
    pthread_mutex_unlock(&h->mu);
    catalog_items_free(items, n);
    return 0;
}

int srv_hub_start(srv_hub *h, cd_err *err)
{
    if (load_items(h, err) != 0)
        return -1;
    if (pthread_create(&h->thread, NULL, hub_main, h) != 0)
        return cd_err_set(err, -1, "cannot start the event hub thread");
    h->started = true;
    return 0;
}

void srv_hub_shutdown(srv_hub *h)
{
    pthread_mutex_lock(&h->mu);
    h->closed = true;
    h->stop = true;
    for (srv_sub *sub = h->ka_head; sub; sub = sub->ka_next) {
        pthread_mutex_lock(&sub->mu);
        sub->closing = true;
        wake(sub);
        pthread_mutex_unlock(&sub->mu);
    }
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    if (h->started) {
        pthread_join(h->thread, NULL);
        h->started = false;
    }
}

void srv_hub_free(srv_hub *h)
{
    if (!h)
        return;
    if (h->started)
        srv_hub_shutdown(h);
    for (size_t b = 0; b < h->nbuckets; b++)
        while (h->table[b])
            state_remove(h, h->table[b]);
    for (srv_change *c = h->q_head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(h->table);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}

void srv_hub_counts(srv_hub *h, int64_t *item_subs, int64_t *global_subs)
{
    pthread_mutex_lock(&h->mu);
    *item_subs = h->n_item_subs;
    *global_subs = h->n_global_subs;
    pthread_mutex_unlock(&h->mu);
}
