/* SPDX-License-Identifier: MIT */
/*
 * A subscriber's life, apart from the events flowing through its queue
 * (hub.c: hub_push in, hub_sub_read out): created for a connection,
 * released twice — once by the request's end (detach: out of the hub) and
 * once by the connection's (unref) — and ended early: closed once its
 * queue is out (a delete, a lost view, a revoked token or link), cut when
 * its queue overflows, or hung up by its client.
 *
 * An overflow drops the whole queue and ends the stream at once, so that a
 * slow reader costs the others nothing; it reconnects with Last-Event-ID
 * and catches up.
 */
#include "hub_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hub_sub *hub_sub_new(hub *h, const char *user, const char *token_sha256, const hub_transport *t)
{
    hub_sub *sub = cd_xcalloc(1, sizeof *sub);
    if (token_sha256)
        snprintf(sub->token_sha256, sizeof sub->token_sha256, "%s", token_sha256);
    sub->opened_ms = hub_now(h);
    pthread_mutex_init(&sub->mu, NULL);
    sub->t = *t;
    sub->attached = true;
    sub->hub = h;
    sub->user = cd_xstrdup(user ? user : "");
    sub->refs = 1; /* the transport's, dropped by hub_sub_unref() */
    return sub;
}

void hub_sub_set_link(hub_sub *sub, const char *token_sha256)
{
    snprintf(sub->link, sizeof sub->link, "%s", token_sha256);
}

void hub_sub_drain(hub_sub *sub)
{
    while (sub->q_len) {
        hub_event_unref(sub->q[sub->q_head]);
        sub->q_head = (sub->q_head + 1) % sub->q_cap;
        sub->q_len--;
    }
    sub->q_bytes = sub->off = 0;
    sub->popped = sub->pushed;
    sub->exempt = 0;
}

/* The queue is full (hub_push, sub->mu held, released here): drop it and
 * end the stream.  A reader that stopped reading would leave its
 * connection waiting for the socket to drain, so the transport is told to
 * cut it as well. */
void hub_sub_overflow(hub *h, hub_sub *sub)
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

void hub_close_sub(hub *h, hub_sub *sub)
{
    pthread_mutex_lock(&sub->mu);
    sub->closing = true;
    hub_sub_wake(sub);
    pthread_mutex_unlock(&sub->mu);
    hub_unlink(h, sub);
    sub->item = NULL;
}

void hub_sub_gzip(hub_sub *sub)
{
    sub->gzip = true;
}

void hub_sub_free(hub_sub *sub)
{
    hub_sub_drain(sub);
    free(sub->q);
    free(sub->user);
    hub_docs_unref(sub->docs);
    pthread_mutex_destroy(&sub->mu);
    free(sub);
}

/* Drops one reference to sub: the hub's (unlinking it) or the transport's. */
static void release(hub_sub *sub, bool unlink)
{
    hub *h = sub->hub;
    pthread_mutex_lock(&h->mu);
    if (unlink) {
        hub_unlink(h, sub);
        pthread_mutex_lock(&sub->mu);
        sub->attached = false;
        pthread_mutex_unlock(&sub->mu);
    } else {
        sub->refs--;
    }
    bool last = sub->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (last)
        hub_sub_free(sub);
}

void hub_sub_detach(hub_sub *sub)
{
    release(sub, true);
}

void hub_sub_unref(hub_sub *sub)
{
    release(sub, false);
}

uint64_t hub_sub_sent(hub_sub *sub)
{
    return atomic_load_explicit(&sub->sent, memory_order_relaxed);
}

void hub_sub_hangup(hub_sub *sub)
{
    pthread_mutex_lock(&sub->mu);
    if (sub->attached && !sub->hung_up) {
        sub->hung_up = true;
        sub->dead = true; /* nothing more is queued for it */
        hub_sub_wake(sub);
    }
    pthread_mutex_unlock(&sub->mu);
}

bool hub_sub_hung_up(hub_sub *sub)
{
    pthread_mutex_lock(&sub->mu);
    bool gone = sub->hung_up;
    pthread_mutex_unlock(&sub->mu);
    return gone;
}
