/* SPDX-License-Identifier: MIT */
/*
 * A subscriber, from the side of its transport: created for a connection,
 * drained by hub_sub_read() (a bounded ring of shared event frames), and
 * released twice — once by the request's end (detach: out of the hub) and
 * once by the connection's (unref).  When the ring is empty the reader asks
 * the transport to suspend the connection, so that an idle subscriber
 * costs no CPU until the hub queues an event and resumes it.
 *
 * A gzip stream reads each event's shared compressed piece instead of its
 * frame, after the gzip header, and ends with the trailer computed from
 * the CRC-32 of every piece it sent.  A piece not made yet is made outside
 * the subscriber's lock, so that compressing a big snapshot never holds up
 * the hub queueing events.
 */
#include "hub_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gz.h"

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

ssize_t hub_sub_read(hub_sub *sub, char *buf, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&sub->mu);
    if (sub->hung_up) { /* nobody left to read what is queued */
        pthread_mutex_unlock(&sub->mu);
        return HUB_READ_ERROR;
    }
    if (sub->gzip && sub->gz_head < CD_GZ_HEADER_LEN) {
        size_t off = sub->gz_head;
        copy_from(buf, &n, max, CD_GZ_HEADER, CD_GZ_HEADER_LEN, &off);
        sub->gz_head = (unsigned)off;
    }
    while (n < max && sub->q_len) {
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
        copy_from(buf, &n, max, src, len, &sub->off);
        if (sub->off == len) {
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
    }
    if (sub->gzip && n < max && !sub->q_len && !sub->dead && (sub->closing || !sub->attached) &&
        sub->gz_tail < CD_GZ_TRAILER_MAX) {
        unsigned char tail[CD_GZ_TRAILER_MAX];
        size_t tlen = cd_gz_trailer(sub->gz_crc, sub->gz_isize, tail), off = sub->gz_tail;
        copy_from(buf, &n, max, (const char *)tail, tlen, &off);
        sub->gz_tail = off == tlen ? CD_GZ_TRAILER_MAX : (unsigned)off;
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
