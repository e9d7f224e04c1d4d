/* SPDX-License-Identifier: MIT */
/*
 * The hub's life cycle and its thread: the changes applied in order (a
 * change whose item cannot be read waits, with the ones after it, for its
 * retry), and the keep-alives.  Subscribers sit in a list ordered by the
 * time of their last event; the thread sleeps until the oldest is due (a
 * condition variable with a deadline: no polling), then sends
 * `: keep-alive` to every subscriber that is due, in one pass.
 * hub_process() and hub_tick() do the same work on the caller's thread,
 * for tests with their own clock.
 */
#include "hub_int.h"

#include <stdlib.h>
#include <string.h>

#define TOKEN_CHECK_MS 5000

static bool token_listed(const catalog_token *t, size_t n, const char *sha)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].sha256, sha))
            return true;
    return false;
}

static bool any_token(const hub *h)
{
    for (const hub_sub *sub = h->ka_head; sub; sub = sub->ka_next)
        if (sub->token_sha256[0])
            return true;
    return false;
}

/* Ends the streams opened with a token that has been revoked since
 * (`contentd token revoke` runs in another process, or on another
 * replica).  Called on the hub's wake-ups, at most every TOKEN_CHECK_MS:
 * one read of the token list, outside hub->mu, however many streams there
 * are.  A stream opened after the read is left for the next check (its
 * token may be newer than the list).  hub->mu held. */
static void check_tokens(hub *h, int64_t now)
{
    if (now - h->tokens_checked_ms < TOKEN_CHECK_MS || !any_token(h))
        return;
    h->tokens_checked_ms = now;
    pthread_mutex_unlock(&h->mu);
    catalog_token *t = NULL;
    size_t n = 0;
    int rc = catalog_token_list(h->cfg.cat, &t, &n, NULL);
    pthread_mutex_lock(&h->mu);
    if (rc != CAT_OK)
        return; /* the catalog cannot tell: close nothing */
    for (hub_sub *sub = h->ka_head, *next; sub; sub = next) {
        next = sub->ka_next;
        if (sub->token_sha256[0] && sub->opened_ms < now &&
            !token_listed(t, n, sub->token_sha256)) {
            cd_log("info", "sse", "msg=\"stream of a revoked token closed\" user=%s", sub->user);
            hub_close_sub(h, sub);
        }
    }
    catalog_tokens_free(t, n);
}

/* Sends `: keep-alive` to every subscriber idle for 15 s (hub->mu held). */
static void keepalives(hub *h, int64_t now)
{
    hub_event *ka = hub_event_keepalive();
    while (h->ka_head && h->ka_head->last_ms + h->cfg.keepalive_ms <= now) {
        hub_sub *sub = h->ka_head;
        pthread_mutex_lock(&sub->mu);
        bool idle = sub->q_len == 0 && !sub->closing && !sub->dead;
        pthread_mutex_unlock(&sub->mu);
        if (idle)
            hub_push(h, sub, ka); /* moves it to the end of the list */
        if (sub->linked && h->ka_head == sub)
            hub_ka_requeue(h, sub, now);
    }
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

void hub_process(hub *h)
{
    pthread_mutex_lock(&h->mu);
    for (hub_change *c; (c = next_change(h, hub_now(h)));) {
        pthread_mutex_unlock(&h->mu);
        bool done = hub_apply(h, c);
        pthread_mutex_lock(&h->mu);
        settle(h, c, done);
        if (!done)
            break; /* due later: the thread (or the next call) retries it */
    }
    pthread_mutex_unlock(&h->mu);
}

int64_t hub_tick(hub *h)
{
    pthread_mutex_lock(&h->mu);
    keepalives(h, hub_now(h));
    int64_t next = h->ka_head ? h->ka_head->last_ms + h->cfg.keepalive_ms : -1;
    pthread_mutex_unlock(&h->mu);
    return next;
}

static void *hub_main(void *arg)
{
    hub *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        check_tokens(h, hub_now(h)); /* may release h->mu: read the queue after it */
        int64_t now = hub_now(h);
        hub_change *c = next_change(h, now);
        if (c) {
            pthread_mutex_unlock(&h->mu);
            bool done = hub_apply(h, c);
            pthread_mutex_lock(&h->mu);
            settle(h, c, done);
            continue;
        }
        keepalives(h, now);
        /* Wake when the oldest is due (a quarter second of slack lets one
         * wake-up serve every subscriber due around the same time) or when
         * a change is to be retried. */
        int64_t wait = -1;
        if (h->ka_head)
            wait = h->ka_head->last_ms + h->cfg.keepalive_ms - now + 250;
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

int64_t hub_now(const hub *h)
{
    return h->cfg.now_ms ? h->cfg.now_ms() : cd_mono_ms();
}

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
    if (pthread_create(&h->thread, NULL, hub_main, h) != 0)
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
