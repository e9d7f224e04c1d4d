/* SPDX-License-Identifier: MIT */
/*
 * Server-sent event streams, the connection side (the handlers of
 * GET …/KIND/NAME/events and GET /api/v1/events are api_events.c's).  Each
 * stream is a chunked response whose content reader copies the hub's
 * queued event frames into libmicrohttpd's buffer.  When the
 * queue is empty the reader suspends the connection: an idle subscriber is
 * off the epoll set and costs no CPU until the hub queues an event and
 * resumes it.
 */
#include "http.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

static atomic_uint_fast64_t sse_bytes; /* handed to the sockets */

/* The transport of a subscriber: its connection, and its socket to cut
 * off a reader that stalls. */
typedef struct sse_conn {
    struct MHD_Connection *conn;
    int fd;
    bool watched; /* in the closed-stream watcher */
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
        atomic_fetch_add_explicit(&sse_bytes, (uint64_t)n, memory_order_relaxed);
    return n;
}

static void sub_response_freed(void *cls)
{
    hub_sub_unref(cls);
}

hub_sub *http_sse_sub(http_req *r, hub *h)
{
    sse_conn *c = cd_xcalloc(1, sizeof *c);
    c->conn = r->conn;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = ci ? ci->connect_fd : -1;
    r->sse_conn = c;
    hub_transport t = {.suspend = conn_suspend, .resume = conn_resume, .cut = conn_cut, .arg = c};
    return hub_sub_new(h, r->user, r->token_sha256, &t);
}

enum MHD_Result http_sse_start(http_req *r, hub_sub *sub)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32, sub_read, sub, sub_response_freed);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    r->sub = sub;
    enum MHD_Result ok = http_reply_response(r, 200, resp, 0);
    if (ok != MHD_YES) { /* never streamed: take it out of the hub */
        r->sub = NULL;
        hub_sub_detach(sub);
        return ok;
    }
    pthread_mutex_lock(&r->s->active_mu);
    r->s->streams++;
    pthread_mutex_unlock(&r->s->active_mu);
    sse_conn *c = r->sse_conn;
    c->watched = http_sse_close_watch(r->s->closer, sub, c->fd);
    return ok;
}

uint64_t http_sse_bytes(void)
{
    return atomic_load_explicit(&sse_bytes, memory_order_relaxed);
}

void http_sse_completed(http_req *r)
{
    hub_sub *sub = r->sub;
    r->bytes = hub_sub_sent(sub);
    r->sub = NULL;
    sse_conn *c = r->sse_conn;
    if (c->watched)
        http_sse_close_forget(r->s->closer, sub, c->fd);
    c->watched = false;
    r->client_gone = hub_sub_hung_up(sub);
    hub_sub_detach(sub);
}
