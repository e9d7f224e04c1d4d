/* SPDX-License-Identifier: MIT */
/*
 * Server-sent event streams, the connection side: GET …/KIND/NAME/events and
 * GET /api/v1/events.  Each stream is a chunked response whose content
 * reader copies queued event frames into libmicrohttpd's buffer.  When the
 * queue is empty the reader suspends the connection: an idle subscriber is
 * off the epoll set and costs no CPU until the hub queues an event and
 * resumes it.
 */
#include "hub_int.h"

#include <stdlib.h>
#include <string.h>

static ssize_t sub_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    srv_sub *sub = cls;
    size_t n = 0;
    (void)pos;
    pthread_mutex_lock(&sub->mu);
    if (sub->hung_up) { /* nobody left to read what is queued */
        pthread_mutex_unlock(&sub->mu);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    while (n < max && sub->q_len) {
        srv_event *ev = sub->q[sub->q_head];
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
            srv_event_unref(ev);
        }
    }
    if (n == 0) {
        ssize_t ret = 0;
        if (sub->dead)
            ret = MHD_CONTENT_READER_END_WITH_ERROR;
        else if (sub->closing || !sub->conn)
            ret = MHD_CONTENT_READER_END_OF_STREAM;
        else {
            sub->suspended = true;
            MHD_suspend_connection(sub->conn);
        }
        pthread_mutex_unlock(&sub->mu);
        return ret;
    }
    pthread_mutex_unlock(&sub->mu);
    atomic_fetch_add_explicit(&sub->sent, n, memory_order_relaxed);
    srv_metrics_sse_bytes(n);
    return (ssize_t)n;
}

static void sub_response_freed(void *cls)
{
    srv_sub *sub = cls;
    srv_hub_release(sub->hub, sub, false);
}

static srv_sub *sub_new(srv_req *r)
{
    srv_sub *sub = cd_xcalloc(1, sizeof *sub);
    pthread_mutex_init(&sub->mu, NULL);
    sub->conn = r->conn;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    sub->fd = ci ? ci->connect_fd : -1;
    sub->hub = r->s->hub;
    sub->user = cd_xstrdup(r->user ? r->user : "");
    memcpy(sub->token_sha256, r->token_sha256, sizeof sub->token_sha256);
    sub->opened_ms = srv_hub_mono_ms();
    sub->refs = 1; /* the response's, dropped when libmicrohttpd frees it */
    return sub;
}

/* The Last-Event-ID of a reconnecting client: -1 when none, -2 when it is
 * not a version number (the client then gets a snapshot). */
static int64_t last_event_id(srv_req *r)
{
    const char *h = srv_req_header(r, "Last-Event-ID");
    char *q = h ? NULL : srv_req_query(r, "last_event_id");
    const char *v = h ? h : q;
    int64_t id = -1;
    if (v && *v && (!srv_parse_i64(v, &id) || id < 0))
        id = -2;
    free(q);
    return id;
}

static enum MHD_Result start_stream(srv_req *r, srv_sub *sub)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32, sub_read, sub, sub_response_freed);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    r->sub = sub;
    enum MHD_Result ok = srv_reply_response(r, 200, resp, 0);
    if (ok != MHD_YES) { /* never streamed: take it out of the hub */
        r->sub = NULL;
        srv_hub_release(sub->hub, sub, true);
        return ok;
    }
    pthread_mutex_lock(&r->s->active_mu);
    r->s->streams++;
    pthread_mutex_unlock(&r->s->active_mu);
    srv_sse_close_watch(r->s->closer, sub);
    return ok;
}

static enum MHD_Result subscribe_failed(srv_req *r, srv_sub *sub, int rc, const cd_err *err)
{
    srv_sub_free(sub);
    if (rc == SRV_HUB_CLOSED)
        return srv_reply_error(r, 503, "shutting_down", "The server is shutting down.");
    if (rc == CAT_NOT_FOUND)
        return srv_reply_error(r, 404, "not_found", "No content item %s/%s.", r->kind, r->name);
    return srv_reply_cat_error(r, rc, err);
}

enum MHD_Result srv_sse_item(srv_req *r)
{
    if (atomic_load(&r->s->stopping))
        return srv_reply_error(r, 503, "shutting_down", "The server is shutting down.");
    catalog_item it;
    if (!srv_item_visible(r, &it))
        return MHD_YES;
    catalog_item_clear(&it);
    srv_sub *sub = sub_new(r);
    cd_err err = {0};
    int rc = srv_hub_subscribe_item(r->s->hub, sub, r->kind, r->name, last_event_id(r), &err);
    if (rc != 0)
        return subscribe_failed(r, sub, rc, &err);
    return start_stream(r, sub);
}

enum MHD_Result srv_sse_global(srv_req *r)
{
    if (atomic_load(&r->s->stopping))
        return srv_reply_error(r, 503, "shutting_down", "The server is shutting down.");
    srv_sub *sub = sub_new(r);
    cd_err err = {0};
    int rc = srv_hub_subscribe_global(r->s->hub, sub, &err);
    if (rc != 0)
        return subscribe_failed(r, sub, rc, &err);
    return start_stream(r, sub);
}

void srv_sse_completed(srv_req *r)
{
    srv_sub *sub = r->sub;
    r->bytes = atomic_load_explicit(&sub->sent, memory_order_relaxed);
    r->sub = NULL;
    srv_sse_close_forget(r->s->closer, sub);
    pthread_mutex_lock(&sub->mu);
    r->client_gone = sub->hung_up;
    pthread_mutex_unlock(&sub->mu);
    srv_hub_release(sub->hub, sub, true);
}
