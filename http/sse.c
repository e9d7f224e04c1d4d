/* SPDX-License-Identifier: MIT */
/*
 * Server-sent event streams, the connection side: GET …/KIND/NAME/events and
 * GET /api/v1/events.  Each stream is a chunked response whose content
 * reader copies queued event frames into libmicrohttpd's buffer.  When the
 * queue is empty the reader suspends the connection: an idle subscriber is
 * off the epoll set and costs no CPU until the hub queues an event and
 * resumes it.  A client that accepts gzip gets a gzip stream (each event
 * compressed once by the hub, for every subscriber); `?documents=` names
 * the documents an item's stream carries in full.
 */
#include "srv_int.h"

#include "gz.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

/* The transport of a subscriber: its connection, and its socket to cut
 * off a reader that stalls. */
typedef struct sse_conn {
    struct MHD_Connection *conn;
    int fd;
} sse_conn;

static void conn_suspend(void *arg)
{
    MHD_suspend_connection(((sse_conn *)arg)->conn);
}

static void conn_resume(void *arg)
{
    MHD_resume_connection(((sse_conn *)arg)->conn);
}

/* A reader that stopped reading leaves libmicrohttpd waiting for the socket
 * to drain: shutting it down makes libmicrohttpd see the error and close
 * the connection.  (The hub calls this only while the request is attached,
 * so libmicrohttpd has not released the connection and the descriptor is
 * still this socket.) */
static void conn_cut(void *arg)
{
    sse_conn *c = arg;
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR);
}

static ssize_t sub_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    ssize_t n = hub_sub_read(cls, buf, max);
    if (n == HUB_READ_ERROR)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == HUB_READ_END)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n > 0)
        srv_metrics_sse_bytes((uint64_t)n);
    return n;
}

static void sub_response_freed(void *cls)
{
    hub_sub_unref(cls);
}

static hub_sub *sub_new(srv_req *r)
{
    sse_conn *c = cd_xcalloc(1, sizeof *c);
    c->conn = r->conn;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = ci ? ci->connect_fd : -1;
    r->sse_conn = c;
    hub_transport t = {.suspend = conn_suspend, .resume = conn_resume, .cut = conn_cut, .arg = c};
    hub_sub *sub = hub_sub_new(r->s->hub, r->user, &t);
    r->sse_gzip = cd_gz_accepted(srv_req_header(r, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    if (r->sse_gzip)
        hub_sub_gzip(sub);
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

static enum MHD_Result start_stream(srv_req *r, hub_sub *sub)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32, sub_read, sub, sub_response_freed);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (r->sse_gzip)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    r->sub = sub;
    enum MHD_Result ok = srv_reply_response(r, 200, resp, 0);
    if (ok != MHD_YES) { /* never streamed: take it out of the hub */
        r->sub = NULL;
        hub_sub_detach(sub);
        return ok;
    }
    pthread_mutex_lock(&r->s->active_mu);
    r->s->streams++;
    pthread_mutex_unlock(&r->s->active_mu);
    return ok;
}

static enum MHD_Result subscribe_failed(srv_req *r, hub_sub *sub, int rc, const cd_err *err)
{
    hub_sub_free(sub);
    if (rc == HUB_CLOSED)
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
    hub_sub *sub = sub_new(r);
    cd_err err = {0};
    char *docs = srv_req_query(r, "documents");
    int rc = hub_subscribe_item(r->s->hub, sub, r->kind, r->name, last_event_id(r), docs, &err);
    free(docs);
    if (rc != 0)
        return subscribe_failed(r, sub, rc, &err);
    return start_stream(r, sub);
}

enum MHD_Result srv_sse_global(srv_req *r)
{
    if (atomic_load(&r->s->stopping))
        return srv_reply_error(r, 503, "shutting_down", "The server is shutting down.");
    hub_sub *sub = sub_new(r);
    cd_err err = {0};
    int rc = hub_subscribe_global(r->s->hub, sub, &err);
    if (rc != 0)
        return subscribe_failed(r, sub, rc, &err);
    return start_stream(r, sub);
}

void srv_sse_completed(srv_req *r)
{
    hub_sub *sub = r->sub;
    r->bytes = hub_sub_sent(sub);
    r->sub = NULL;
    hub_sub_detach(sub);
}
