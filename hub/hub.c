/* SPDX-License-Identifier: MIT */
/*
 * The event hub's path from a catalog change to the bytes a transport
 * sends: the listener, the hub's thread, a new version turned into one
 * update, the fan-out to the subscribers' queues and the read of a queue.
 *
 * The catalog listener (hub_on_change) only queues the change and wakes the
 * hub thread, so a change from this process and one from another replica
 * (the MongoDB catalog's change stream) take the same path, in order.  The
 * hub thread builds each event once (hub_events.c: from the catalog and
 * the configured documents), then, under the hub lock, puts a reference
 * to it in the queue of every subscriber that should get it and resumes
 * the suspended ones.  The transport (http/sse.c) then copies the queued
 * frames out with hub_sub_read(), until the queue is empty and it is
 * suspended again.
 *
 * A subscriber never misses or repeats a version: it records the version
 * its first event brought it to (hub_subscribe.c), and gets only the
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
 * Off this path: joining a stream and catching up (hub_subscribe.c), the
 * global stream's views and the changes other than a new version
 * (hub_views.c), the keep-alives, token checks and link expiries
 * (hub_timers.c), a subscriber's life and overflow (hub_sub.c), and the
 * hub's state and life cycle (hub_state.c).
 */
#include "hub_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gz.h"

#define RETRY_FIRST_MS 50
#define RETRY_MAX_MS   5000
/* An error that is not the catalog being unavailable (a document it cannot
 * read) is retried this many times, then the item's subscribers are sent
 * away to reconnect (and catch up from the catalog themselves), so that one
 * such item cannot hold up every other change for ever. */
#define RETRY_ERROR_ATTEMPTS 6

/* ---- the listener and the change queue ------------------------------ */

void hub_on_change(void *arg, catalog_event ev, const char *kind, const char *name, int64_t version)
{
    hub *h = arg;
    hub_change *c = cd_xcalloc(1, sizeof *c);
    c->ev = ev;
    snprintf(c->kind, sizeof c->kind, "%s", kind);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->version = version;
    c->noted_ns = cd_mono_ns();
    pthread_mutex_lock(&h->mu);
    if (h->q_tail)
        h->q_tail->next = c;
    else
        h->q_head = c;
    h->q_tail = c;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* Takes the oldest queued change if it is due at now (hub->mu held); NULL
 * when there is none, or it waits for its retry. */
static hub_change *next_change(hub *h, int64_t now)
{
    hub_change *c = h->q_head;
    if (!c || c->due_ms > now)
        return NULL;
    h->q_head = c->next;
    if (!h->q_head)
        h->q_tail = NULL;
    return c;
}

/* After apply (hub->mu held): frees c, or puts it back at the head to be
 * retried, the changes after it waiting, in order. */
static void settle(hub *h, hub_change *c, bool done)
{
    if (done) {
        free(c);
        return;
    }
    c->next = h->q_head;
    h->q_head = c;
    if (!h->q_tail)
        h->q_tail = c;
}

static bool apply(hub *h, hub_change *c);

void hub_process(hub *h)
{
    pthread_mutex_lock(&h->mu);
    for (hub_change *c; (c = next_change(h, hub_now(h)));) {
        pthread_mutex_unlock(&h->mu);
        bool done = apply(h, c);
        pthread_mutex_lock(&h->mu);
        settle(h, c, done);
        if (!done)
            break; /* due later: the thread (or the next call) retries it */
    }
    pthread_mutex_unlock(&h->mu);
}

void *hub_run(void *arg)
{
    hub *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        hub_check_tokens(h, hub_now(h)); /* may release h->mu: read the queue after it */
        int64_t now = hub_now(h);
        hub_change *c = next_change(h, now);
        if (c) {
            pthread_mutex_unlock(&h->mu);
            bool done = apply(h, c);
            pthread_mutex_lock(&h->mu);
            settle(h, c, done);
            continue;
        }
        /* Nothing to apply: what is due by the clock, then sleep until the
         * next of that or of a change's retry. */
        int64_t wait = hub_timers_run(h, now);
        if (h->q_head && (wait < 0 || h->q_head->due_ms - now < wait))
            wait = h->q_head->due_ms - now;
        if (wait < 0) {
            pthread_cond_wait(&h->cv, &h->mu);
            continue;
        }
        cd_cond_wait_until(&h->cv, &h->mu, cd_mono_ms() + wait);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* ---- a new version -------------------------------------------------- */

/* The update of one documents list (NULL: every document in full). */
typedef struct part_update {
    hub_docs *docs;
    hub_event *ev;
} part_update;

hub_event *hub_build_update(hub *h, const catalog_item *it, int64_t from, int64_t v,
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
        parts[i].ev = hub_build_update(h, it, from, v, parts[i].docs);
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

/* Keeps the new version's update, and a catch-up snapshot of it, in the
 * item's state for the next subscribers (hub->mu held). */
static void cache_version(hub_item *st, int64_t v, hub_event *upd, hub_event *snap)
{
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
}

/* A new version: the update to the item's subscribers (a snapshot to
 * those further behind), the item to the global stream.  The first version
 * of an item created again under a deleted one's name follows the empty
 * item (version 0), not the deleted one's last version.  A subscriber that
 * wants some documents only gets the update of its list; when it is
 * further behind, its stream ends and it reconnects with Last-Event-ID. */
static void apply_version(hub *h, const catalog_item *it, int64_t v, int64_t noted_ns)
{
    int64_t taken_ns = cd_mono_ns();
    size_t updated = 0, caught_up = 0, closed = 0;
    int64_t from = v - 1 == it->deleted_version ? 0 : v - 1;
    hub_event *upd = hub_build_update(h, it, from, v, NULL);
    part_update *parts = NULL;
    size_t nparts = part_updates(h, it, from, v, &parts);
    hub_event *snap = hub_catch_up(h, it, v, from, upd != NULL);
    pthread_mutex_lock(&h->mu);
    hub_item *st = hub_state_get(h, it);
    cache_version(st, v, upd, snap);
    for (hub_sub *sub = st->subs, *next; sub; sub = next) {
        next = sub->next;
        if (sub->version >= v)
            continue; /* its first event already brought it there */
        if (!hub_follows_latest(sub, it))
            continue; /* a reader: it follows the published version (a link: its own) */
        hub_event *u = update_for(sub, upd, parts, nparts);
        if (u && sub->version == from && hub_push(h, sub, u)) {
            sub->version = v;
            updated++;
        } else if (snap && !sub->docs && snap->version > sub->version &&
                   hub_push_snapshot(h, sub, snap)) {
            sub->version = snap->version;
            caught_up++;
        } else if (sub->version != from || !u) {
            hub_close_sub(h, sub); /* cannot be brought up to date: it reconnects */
            closed++;
        }
    }
    hub_publish_views(h, "version", it, false);
    h->seq++;
    pthread_mutex_unlock(&h->mu);
    /* the per-save debug line's other half (docs/watch.md, "Diagnosing a
     * save"): when the version was queued to its subscribers, after the
     * catalog announced it */
    int64_t now = cd_mono_ns();
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    cd_log("debug", "sse",
           "msg=\"update queued\" item=%s/%s version=%lld updated=%zu caught_up=%zu closed=%zu "
           "at=%.3f taken_ms=%.2f queued_ms=%.2f",
           it->kind, it->name, (long long)v, updated, caught_up, closed,
           (double)rt.tv_sec * 1e3 + (double)rt.tv_nsec / 1e6, (double)(taken_ns - noted_ns) / 1e6,
           (double)(now - noted_ns) / 1e6);
    hub_event_unref(upd);
    hub_event_unref(snap);
    free_parts(parts, nparts);
}

/* The item of change c could not be read (rc, err): false when c is to be
 * retried after its backoff, true when the hub gives up on it and sends
 * the item's subscribers away to catch up by reconnecting. */
static bool not_read(hub *h, hub_change *c, int rc, const cd_err *err)
{
    atomic_fetch_add_explicit(&h->change_retries, 1, memory_order_relaxed);
    if (rc != CAT_UNAVAILABLE && c->attempts + 1 >= RETRY_ERROR_ATTEMPTS) {
        cd_log("error", "sse",
               "msg=\"change not applied: the item cannot be read; its streams are closed to "
               "catch up\" item=%s/%s version=%lld attempts=%u err=\"%s\"",
               c->kind, c->name, (long long)c->version, c->attempts + 1, err->msg);
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
    c->attempts++;
    c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : RETRY_FIRST_MS;
    if (c->backoff_ms > RETRY_MAX_MS)
        c->backoff_ms = RETRY_MAX_MS;
    c->due_ms = hub_now(h) + c->backoff_ms;
    cd_log("warn", "sse",
           "msg=\"change not applied yet: the item cannot be read; retrying\" item=%s/%s "
           "version=%lld attempt=%u retry_ms=%lld err=\"%s\"",
           c->kind, c->name, (long long)c->version, c->attempts, (long long)c->backoff_ms,
           err->msg);
    return false;
}

/* Applies one change; false when the item could not be read (the change
 * is to be retried). */
static bool apply(hub *h, hub_change *c)
{
    if (c->ev == CAT_EV_DELETED) {
        hub_apply_deleted(h, c->kind, c->name);
        return true;
    }
    if (c->ev == CAT_EV_COMMENT) {
        hub_apply_comment(h, c->kind, c->name, c->version);
        return true;
    }
    catalog_item it = {0};
    cd_err err = {0};
    int rc = catalog_item_get(h->cfg.cat, c->kind, c->name, &it, &err);
    if (rc == CAT_NOT_FOUND)
        return true; /* gone already: its delete follows */
    if (rc != CAT_OK)
        return not_read(h, c, rc, &err);
    if (c->attempts)
        cd_log("info", "sse", "msg=\"change applied after retries\" item=%s/%s attempts=%u",
               c->kind, c->name, c->attempts);
    if (c->ev == CAT_EV_VERSION)
        apply_version(h, &it, c->version, c->noted_ns);
    else if (c->ev == CAT_EV_UPDATED)
        hub_apply_updated(h, &it);
    else
        hub_apply_created(h, &it);
    catalog_item_clear(&it);
    return true;
}

/* ---- a subscriber's queue: in ----------------------------------------- */

void hub_sub_wake(hub_sub *sub)
{
    if (sub->suspended && sub->attached) {
        sub->suspended = false;
        if (sub->t.resume)
            sub->t.resume(sub->t.arg);
    }
}

/* Grows sub's ring when it is full (sub->mu held). */
static void ring_reserve(hub_sub *sub)
{
    if (sub->q_len < sub->q_cap)
        return;
    uint32_t cap = sub->q_cap ? sub->q_cap * 2 : 4;
    hub_event **q = cd_xcalloc(cap, sizeof *q);
    for (uint32_t i = 0; i < sub->q_len; i++)
        q[i] = sub->q[(sub->q_head + i) % sub->q_cap];
    free(sub->q);
    sub->q = q;
    sub->q_cap = cap;
    sub->q_head = 0;
}

/* Queues ev for sub; returns false when sub was dropped instead (its
 * queue is over the bound: hub_sub_overflow).  A snapshot (first) is not
 * counted against the bound in bytes while it is the only one queued: the
 * bound is about falling behind, and a snapshot of any size must reach a
 * new subscriber. */
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
        hub_sub_overflow(h, sub); /* releases sub->mu */
        return false;
    }
    ring_reserve(sub);
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
    if (sub->linked)
        hub_ka_requeue(h, sub, hub_now(h));
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

/* ---- a subscriber's queue: out ---------------------------------------- */

/* Copies what is left of src[0..len) from *off into buf[*n..max). */
static void copy_from(char *buf, size_t *n, size_t max, const char *src, size_t len, size_t *off)
{
    size_t take = len - *off;
    if (take > max - *n)
        take = max - *n;
    memcpy(buf + *n, src + *off, take);
    *n += take;
    *off += take;
}

/* The head event's bytes for this stream; NULL when its gzip piece is
 * still to be made (sub->mu held). */
static const char *head_bytes(hub_sub *sub, hub_event *ev, size_t *len)
{
    if (!sub->gzip) {
        *len = ev->len;
        return ev->data;
    }
    pthread_mutex_lock(&ev->gz_mu);
    const char *gz = ev->gz;
    *len = ev->gz_len;
    pthread_mutex_unlock(&ev->gz_mu);
    return gz;
}

/* The head event is out: pops it (sub->mu held). */
static void pop(hub_sub *sub, hub_event *ev)
{
    sub->off = 0;
    if (++sub->popped == sub->exempt)
        sub->exempt = 0;
    else
        sub->q_bytes -= ev->len;
    if (sub->gzip) {
        sub->gz_crc = cd_gz_crc_add(sub->gz_crc, ev->crc, ev->len);
        sub->gz_isize += ev->len;
    }
    sub->q_head = (sub->q_head + 1) % sub->q_cap;
    sub->q_len--;
    hub_event_unref(ev);
}

/* Copies the queued events' bytes into buf[*n..max) (sub->mu held; a
 * gzip piece not made yet is made with it released). */
static void read_queue(hub_sub *sub, char *buf, size_t *n, size_t max)
{
    while (*n < max && sub->q_len) {
        hub_event *ev = sub->q[sub->q_head];
        size_t len = 0;
        const char *src = head_bytes(sub, ev, &len);
        if (!src) { /* compress it once, unlocked: only this reader pops the queue */
            hub_event_ref(ev);
            pthread_mutex_unlock(&sub->mu);
            hub_event_gz(ev, &len);
            hub_event_unref(ev);
            pthread_mutex_lock(&sub->mu);
            continue;
        }
        copy_from(buf, n, max, src, len, &sub->off);
        if (sub->off == len)
            pop(sub, ev);
    }
}

/* A gzip stream's header before the first event, and its trailer once the
 * stream ends cleanly with everything sent (sub->mu held). */
static void gzip_head(hub_sub *sub, char *buf, size_t *n, size_t max)
{
    if (sub->gz_head >= CD_GZ_HEADER_LEN)
        return;
    size_t off = sub->gz_head;
    copy_from(buf, n, max, CD_GZ_HEADER, CD_GZ_HEADER_LEN, &off);
    sub->gz_head = (unsigned)off;
}

static void gzip_tail(hub_sub *sub, char *buf, size_t *n, size_t max)
{
    if (*n >= max || sub->q_len || sub->dead || !(sub->closing || !sub->attached) ||
        sub->gz_tail >= CD_GZ_TRAILER_MAX)
        return;
    unsigned char tail[CD_GZ_TRAILER_MAX];
    size_t tlen = cd_gz_trailer(sub->gz_crc, sub->gz_isize, tail), off = sub->gz_tail;
    copy_from(buf, n, max, (const char *)tail, tlen, &off);
    sub->gz_tail = off == tlen ? CD_GZ_TRAILER_MAX : (unsigned)off;
}

ssize_t hub_sub_read(hub_sub *sub, char *buf, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&sub->mu);
    if (sub->hung_up) { /* nobody left to read what is queued */
        pthread_mutex_unlock(&sub->mu);
        return HUB_READ_ERROR;
    }
    if (sub->gzip)
        gzip_head(sub, buf, &n, max);
    read_queue(sub, buf, &n, max);
    if (sub->gzip)
        gzip_tail(sub, buf, &n, max);
    ssize_t ret = (ssize_t)n;
    if (n == 0) {
        if (sub->dead)
            ret = HUB_READ_ERROR;
        else if (sub->closing || !sub->attached)
            ret = HUB_READ_END;
        else {
            sub->suspended = true;
            if (sub->t.suspend)
                sub->t.suspend(sub->t.arg);
        }
    }
    pthread_mutex_unlock(&sub->mu);
    if (n)
        atomic_fetch_add_explicit(&sub->sent, n, memory_order_relaxed);
    return ret;
}
