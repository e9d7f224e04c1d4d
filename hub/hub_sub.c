/* SPDX-License-Identifier: MIT */
/*
 * A subscriber, from the side of its transport: created for a connection,
 * drained by hub_sub_read() (a bounded ring of shared event frames), and
 * released twice — once by the request's end (detach: out of the hub) and
 * once by the connection's (unref).  When the ring is empty the reader asks
 * the transport to suspend the connection, so that an idle subscriber
 * costs no CPU until the hub queues an event and resumes it.
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

void hub_sub_drain(hub_sub *sub)
{
    while (sub->q_len) {
        hub_event_unref(sub->q[sub->q_head]);
        sub->q_head = (sub->q_head + 1) % sub->q_cap;
        sub->q_len--;
    }
    sub->q_bytes = sub->off = 0;
}

void hub_sub_free(hub_sub *sub)
{
    hub_sub_drain(sub);
    free(sub->q);
    free(sub->user);
    pthread_mutex_destroy(&sub->mu);
    free(sub);
}

void hub_sub_wake(hub_sub *sub)
{
    if (sub->suspended && sub->attached) {
        sub->suspended = false;
        if (sub->t.resume)
            sub->t.resume(sub->t.arg);
    }
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

ssize_t hub_sub_read(hub_sub *sub, char *buf, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&sub->mu);
    if (sub->hung_up) { /* nobody left to read what is queued */
        pthread_mutex_unlock(&sub->mu);
        return HUB_READ_ERROR;
    }
    while (n < max && sub->q_len) {
        hub_event *ev = sub->q[sub->q_head];
        size_t take = ev->len - sub->off;
        if (take > max - n)
            take = max - n;
        memcpy(buf + n, ev->data + sub->off, take);
        n += take;
        sub->off += take;
        if (sub->off == ev->len) {
            sub->off = 0;
            sub->q_bytes -= ev->len;
            sub->q_head = (sub->q_head + 1) % sub->q_cap;
            sub->q_len--;
            hub_event_unref(ev);
        }
    }
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
