/* SPDX-License-Identifier: MIT */
/*
 * What the hub's thread does by the clock, when no change is waiting
 * (hub.c, hub_run): the keep-alives of idle streams, the end of the streams
 * of revoked tokens and of expired share links.  Subscribers sit in a list
 * ordered by the time of their last event (hub_state.c); the thread sleeps
 * until the oldest is due (a condition variable with a deadline: no
 * polling), then sends `: keep-alive` to every subscriber that is due, in
 * one pass.  hub_tick() and hub_expire_links() do the same work on the
 * caller's thread, for tests with their own clock.
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
void hub_check_tokens(hub *h, int64_t now)
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

/* Ends the expired share links' streams (hub->mu held); the wall-clock
 * time the next one expires, or -1. */
static int64_t expire_links(hub *h)
{
    if (!h->n_link_subs)
        return -1;
    int64_t now = cd_now_ms(), next = -1;
    for (hub_sub *sub = h->ka_head, *after; sub; sub = after) {
        after = sub->ka_next;
        if (!sub->link[0] || sub->global || !sub->expires_at)
            continue;
        if (sub->expires_at <= now)
            hub_close_sub(h, sub);
        else if (next < 0 || sub->expires_at < next)
            next = sub->expires_at;
    }
    return next;
}

int64_t hub_expire_links(hub *h)
{
    pthread_mutex_lock(&h->mu);
    int64_t next = expire_links(h);
    pthread_mutex_unlock(&h->mu);
    return next;
}

int64_t hub_tick(hub *h)
{
    pthread_mutex_lock(&h->mu);
    keepalives(h, hub_now(h));
    int64_t next = h->ka_head ? h->ka_head->last_ms + h->cfg.keepalive_ms : -1;
    pthread_mutex_unlock(&h->mu);
    return next;
}

int64_t hub_timers_run(hub *h, int64_t now)
{
    keepalives(h, now);
    int64_t expiry = expire_links(h);
    /* Wake when the oldest is due (a quarter second of slack lets one
     * wake-up serve every subscriber due around the same time), or when a
     * share link expires. */
    int64_t wait = -1;
    if (h->ka_head)
        wait = h->ka_head->last_ms + h->cfg.keepalive_ms - now + 250;
    if (expiry >= 0 && (wait < 0 || expiry - cd_now_ms() < wait))
        wait = expiry - cd_now_ms() > 0 ? expiry - cd_now_ms() : 0;
    return wait;
}
